// Evaluates GitHub Actions expressions with GitHub's own evaluator, @actions/expressions (the
// library of GitHub's Actions language service, installed offline from npm into .tools/ by
// .ci/provision). The workflow replay (tests/replay/runner.py) renders every `${{ }}` and every
// `if:` through it, so a value is what GitHub would make of it, not what a hand-written evaluator
// guesses.
//
// One request per line on stdin, one answer per line on stdout, for as long as stdin is open (the
// replay keeps one evaluator running rather than starting node for every step):
// request: {"context": {github, env, vars, secrets, matrix, strategy, needs, steps, runner, job, inputs},
//           "status": {"success": bool, "failure": bool, "cancelled": bool},
//           "items": [{"kind": "value" | "condition", "text": "..."}]}
// answer:  [{"value": ...} | {"error": "..."}]  one per item, in order.
//
// "value": a YAML value as the runner renders it: a string that is one whole `${{ }}` becomes the
// expression's value (any type; fromJSON gives arrays and objects); any other string with `${{ }}`
// in it becomes the text with each expression's string form put in.
// "condition": an `if:`, with or without `${{ }}`; without a status function (success(), failure(),
// cancelled(), always()) it is `success() && (...)`, as GitHub evaluates it. Gives a boolean.
import { createInterface } from "node:readline";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "..", ".tools", "node_modules", "@actions", "expressions", "dist");
const { Lexer, Parser, Evaluator, data } = await import(join(dist, "index.js"));
const { TokenType } = await import(join(dist, "lexer.js"));
const { truthy } = await import(join(dist, "result.js"));

const STATUS = ["success", "failure", "cancelled", "always"];
const extensionFunctions = STATUS.map((name) => ({ name, minArgs: 0, maxArgs: 0 }));
// The request being answered: its contexts, and the job status the status functions report.
let context, functions, contexts;

function parse(text) {
  const { tokens } = new Lexer(text).lex();
  return { tokens, expr: new Parser(tokens, contexts, extensionFunctions).parse() };
}

function evaluate(text) {
  return new Evaluator(parse(text).expr, context, functions).evaluate();
}

function plain(value) {
  return JSON.parse(JSON.stringify(value, data.replacer));
}

// The `${{ ... }}` spans of a string; `}}` inside a single-quoted string literal does not close one.
function spans(text) {
  const found = [];
  let at = 0;
  for (;;) {
    const start = text.indexOf("${{", at);
    if (start < 0) return found;
    let i = start + 3, quoted = false;
    for (; i < text.length; i++) {
      if (text[i] === "'") quoted = !quoted;
      else if (!quoted && text.startsWith("}}", i)) break;
    }
    if (i >= text.length) throw new Error(`unclosed \${{ in: ${text}`);
    found.push({ start, end: i + 2, expr: text.slice(start + 3, i).trim() });
    at = i + 2;
  }
}

function value(text) {
  const found = spans(text);
  if (found.length === 0) return text;
  if (found.length === 1 && found[0].start === 0 && found[0].end === text.length) {
    return plain(evaluate(found[0].expr));
  }
  let out = "", at = 0;
  for (const span of found) {
    out += text.slice(at, span.start) + evaluate(span.expr).coerceString();
    at = span.end;
  }
  return out + text.slice(at);
}

function condition(text) {
  let expr = String(text).trim();
  const found = spans(expr);
  if (found.length === 1 && found[0].start === 0 && found[0].end === expr.length) expr = found[0].expr;
  else if (found.length) throw new Error(`an if: mixes text and \${{ }}: ${text}`);
  const { tokens } = parse(expr);
  const usesStatus = tokens.some((t, i) => t.type === TokenType.IDENTIFIER && STATUS.includes(t.lexeme.toLowerCase())
    && tokens[i + 1]?.type === TokenType.LEFT_PAREN);
  return truthy(evaluate(usesStatus ? expr : `success() && (${expr})`));
}

function answer(input) {
  context = JSON.parse(JSON.stringify(input.context ?? {}), data.reviver);
  contexts = Object.keys(input.context ?? {});
  const status = input.status ?? { success: true, failure: false, cancelled: false };
  functions = new Map(STATUS.map((name) => [name, {
    name, minArgs: 0, maxArgs: 0,
    call: () => new data.BooleanData(name === "always" ? true : Boolean(status[name])),
  }]));
  return (input.items ?? []).map(({ kind, text }) => {
    try {
      return { value: kind === "condition" ? condition(text) : value(text) };
    } catch (error) {
      return { error: String(error?.message ?? error) };
    }
  });
}

for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (line.trim()) process.stdout.write(JSON.stringify(answer(JSON.parse(line))) + "\n");
}
