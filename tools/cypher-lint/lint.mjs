#!/usr/bin/env node
// Lint Cypher statements with Neo4j's own Cypher language support
// (@neo4j-cypher/language-support: the ANTLR grammar of Neo4j's parser plus Neo4j's
// semantic analysis compiled to JavaScript), as Neo4j 5 ("CYPHER 5") would see them.
//
// Usage:
//   node lint.mjs statements.json [--schema schema.json] [--explained explained.json]
//                 [--report report.json] [--fail-on-unexplained-warnings]
//
// statements.json: a JSON list of {name, text[, params]}. Where `params` is given, the
//   statement may use only those parameters; where it is not (named queries, whose
//   parameters the caller supplies at run time), "Parameter $x is not defined" is ignored.
// schema.json: {labels, relationshipTypes, propertyKeys, graphSchema} from the model, so a
//   misspelt label, type or property is a warning.
// explained.json: [{statement, message, why}] (regular expressions matched against the
//   statement name and the warning message): warnings that are expected, with the reason.
//
// Built-in functions and procedures are those of Neo4j 5 as shipped with the package
// (its registry of a Neo4j 5 server), without plugins (APOC, GDS): a statement calling a
// function Neo4j does not have is an error, so our Cypher never depends on a plugin.
//
// Exit status: 0 clean; 1 when any statement has an error (or, with
// --fail-on-unexplained-warnings, a warning no entry of explained.json explains); 2 usage.

import { readFileSync, writeFileSync } from 'node:fs';
import { lintCypherQuery, testData } from '@neo4j-cypher/language-support';

const SEVERITY = { 1: 'error', 2: 'warning', 3: 'info', 4: 'hint' };

function parseArgs(argv) {
  const opts = { files: [], failOnUnexplained: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--schema') opts.schema = argv[++i];
    else if (a === '--explained') opts.explained = argv[++i];
    else if (a === '--report') opts.report = argv[++i];
    else if (a === '--fail-on-unexplained-warnings') opts.failOnUnexplained = true;
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else opts.files.push(a);
  }
  if (opts.files.length !== 1) throw new Error('expected one statements.json');
  return opts;
}

function builtinRegistry() {
  // Keep only what a plain Neo4j 5 server has: built-in functions, and procedures outside
  // the plugin namespaces.
  const plugin = (name) => name.startsWith('apoc.') || name.startsWith('gds.');
  const functions = {};
  const procedures = {};
  for (const [version, fns] of Object.entries(testData.mockSchema.functions ?? {})) {
    functions[version] = Object.fromEntries(
      Object.entries(fns).filter(([name, fn]) => fn.isBuiltIn && !plugin(name)));
  }
  for (const [version, procs] of Object.entries(testData.mockSchema.procedures ?? {})) {
    procedures[version] = Object.fromEntries(
      Object.entries(procs).filter(([name]) => !plugin(name)));
  }
  return { functions, procedures };
}

function lineCol(text, offset) {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const col = offset - before.lastIndexOf('\n');
  return `${line}:${col}`;
}

function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`usage error: ${e.message}`);
    return 2;
  }
  const statements = JSON.parse(readFileSync(opts.files[0], 'utf8'));
  const schema = opts.schema ? JSON.parse(readFileSync(opts.schema, 'utf8')) : {};
  const explained = opts.explained ? JSON.parse(readFileSync(opts.explained, 'utf8')) : [];
  const registry = builtinRegistry();
  const report = { statements: statements.length, errors: [], warnings: [] };

  for (const st of statements) {
    const dbSchema = {
      ...schema,
      ...registry,
      defaultLanguage: 'CYPHER 5',
      parameters: st.params ?? {},
    };
    const { diagnostics } = lintCypherQuery(st.text, dbSchema);
    for (const d of diagnostics) {
      const severity = SEVERITY[d.severity] ?? String(d.severity);
      if (!st.params && d.message.startsWith('Parameter ') && d.message.endsWith(' is not defined.')) {
        continue; // run-time parameters of named queries
      }
      const at = d.offsets ? lineCol(st.text, d.offsets.start) : '?';
      const snippet = d.offsets ? st.text.slice(d.offsets.start, Math.max(d.offsets.end, d.offsets.start + 1)).slice(0, 60) : '';
      const item = { statement: st.name, severity, at, message: d.message, snippet };
      if (severity === 'error') {
        report.errors.push(item);
      } else {
        const why = explained.find((e) =>
          new RegExp(e.statement).test(st.name) && new RegExp(e.message).test(d.message));
        item.explained = why ? why.why : null;
        report.warnings.push(item);
      }
    }
  }

  for (const e of report.errors) {
    console.log(`ERROR   ${e.statement} @${e.at} [${e.snippet}]: ${e.message}`);
  }
  for (const w of report.warnings) {
    const note = w.explained ? ` (explained: ${w.explained})` : ' (UNEXPLAINED)';
    console.log(`${w.severity.toUpperCase().padEnd(7)} ${w.statement} @${w.at} [${w.snippet}]: ${w.message}${note}`);
  }
  const used = new Set(report.warnings.filter((w) => w.explained).map((w) => w.explained));
  report.unused_explanations = explained.filter((e) => !used.has(e.why)).map((e) => e.statement);
  for (const e of report.unused_explanations) {
    console.log(`NOTE    explained-warnings.json entry for /${e}/ matched no warning (stale?)`);
  }
  const unexplained = report.warnings.filter((w) => !w.explained).length;
  report.unexplained_warnings = unexplained;
  console.log(`linted ${statements.length} statements as CYPHER 5: ${report.errors.length} error(s), ` +
    `${report.warnings.length} warning(s), ${unexplained} unexplained`);
  if (opts.report) writeFileSync(opts.report, JSON.stringify(report, null, 1) + '\n');
  if (report.errors.length > 0) return 1;
  if (opts.failOnUnexplained && unexplained > 0) return 1;
  return 0;
}

process.exitCode = main();
