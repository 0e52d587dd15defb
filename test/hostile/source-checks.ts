import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { SESSION_ID_BYTES } from '../../src/session/session-id';

export interface Finding {
  file: string;
  line: number;
  text: string;
}

/** Names that hold a secret or something derived from one. */
const SECRET_NAME = /(token|secret|password|passwd|passphrase|apikey|api_key|credential|authorization|digest|signature|hmac|mac|csrf|key)$/i;

/** The name an operand goes by: `x`, `a.b.x`, `a['x']`, `x(...)`, `a.x(...)`; unwrapped of parentheses, `!` and `as`. */
function operandName(node: ts.Expression): string | undefined {
  while (ts.isParenthesizedExpression(node) || ts.isNonNullExpression(node) || ts.isAsExpression(node) || ts.isAwaitExpression(node)) node = node.expression;
  if (ts.isIdentifier(node)) return node.text;
  if (ts.isPropertyAccessExpression(node)) return node.name.text;
  if (ts.isElementAccessExpression(node) && ts.isStringLiteralLike(node.argumentExpression)) return node.argumentExpression.text;
  if (ts.isCallExpression(node)) return operandName(node.expression);
  return undefined;
}

/** An operand that carries no secret: a literal, `undefined`, a `typeof`, a length or size. */
function harmless(node: ts.Expression): boolean {
  while (ts.isParenthesizedExpression(node)) node = node.expression;
  return (
    ts.isLiteralExpression(node) ||
    ts.isNoSubstitutionTemplateLiteral(node) ||
    ts.isTypeOfExpression(node) ||
    [ts.SyntaxKind.NullKeyword, ts.SyntaxKind.TrueKeyword, ts.SyntaxKind.FalseKeyword].includes(node.kind) ||
    (ts.isIdentifier(node) && node.text === 'undefined') ||
    (ts.isPropertyAccessExpression(node) && ['length', 'size', 'byteLength'].includes(node.name.text))
  );
}

const EQUALITY = new Set([ts.SyntaxKind.EqualsEqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsEqualsToken, ts.SyntaxKind.EqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsToken]);

/**
 * `===`/`!==` (and `==`/`!=`) comparisons where an operand is named like a
 * secret and the other is not a constant: each must be a `timingSafeEqual`
 * instead, or an allow-listed comparison that is not a secret check.
 */
export function timingUnsafeComparisons(file: string, text: string): Finding[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: Finding[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isBinaryExpression(node) && EQUALITY.has(node.operatorToken.kind)) {
      const secretSide = [node.left, node.right].some((side) => SECRET_NAME.test(operandName(side) ?? ''));
      if (secretSide && !harmless(node.left) && !harmless(node.right)) {
        found.push({ file, line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1, text: node.getText() });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/**
 * Weak randomness: any `Math.random`, and session ids not made of at least
 * 16 bytes from `randomBytes` (`sessionIdGenerator: () => id` needs a
 * `const id = randomBytes(n)` with n >= 16 in the same file; so does `_sessionId:`).
 */
export function weakRandomness(file: string, text: string): Finding[] {
  const found: Finding[] = [];
  const lineOf = (index: number) => text.slice(0, index).split('\n').length;
  for (const m of text.matchAll(/Math\.random\b/g)) found.push({ file, line: lineOf(m.index), text: m[0] });
  for (const m of text.matchAll(/(?:sessionIdGenerator:\s*\(\)\s*=>|_sessionId:)\s*([^,}\n]+)/g)) {
    const value = m[1].trim();
    const source = /^\w+$/.test(value) ? new RegExp(`const ${value} = ([^;\n]+)`).exec(text)?.[1] ?? '' : value;
    // Ids come from newSessionId() (src/session/session-id.ts, checked on its own by sessionIdBytes) or randomBytes(n) here.
    const bytes = /^newSessionId\(\)/.test(source) ? SESSION_ID_BYTES : Number(/^randomBytes\((\d+)\)/.exec(source)?.[1] ?? 0);
    if (bytes < 16) found.push({ file, line: lineOf(m.index), text: m[0] });
  }
  return found;
}

/** The TypeScript sources of the app and its libraries, tests excluded, as [path relative to root, text]. */
export function appSources(root: string): [string, string][] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts') ? [join(dir, e.name)] : []));
  return ['src', 'libs'].flatMap((d) => walk(join(root, d))).map((f) => [relative(root, f), readFileSync(f, 'utf8')]);
}
