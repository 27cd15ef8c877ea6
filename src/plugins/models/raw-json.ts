/**
 * Raw source text of JSON values. JSON.parse turns integers beyond 2^53 into rounded doubles;
 * Zuul's `requestor_data.span_info` carries 128-bit trace ids as plain JSON integers, so a body
 * that is parsed and written back would alter them. These helpers find a value's exact text so
 * it can be read as a bigint and written back byte for byte.
 */

/** Index just past the JSON string that starts at `i` (at its opening quote). */
function skipString(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    const ch = text[j];
    if (ch === '\\') j++;
    else if (ch === '"') return j + 1;
  }
  return text.length;
}

function skipWhitespace(text: string, i: number): number {
  while (i < text.length && ' \t\r\n'.includes(text[i])) i++;
  return i;
}

/** Index just past the JSON value that starts at `i`. */
function skipValue(text: string, i: number): number {
  const ch = text[i];
  if (ch === '"') return skipString(text, i);
  if (ch === '{' || ch === '[') {
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const c = text[j];
      if (c === '"') j = skipString(text, j) - 1;
      else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return text.length;
  }
  let j = i;
  while (j < text.length && !',}] \t\r\n'.includes(text[j])) j++;
  return j;
}

/**
 * The raw text of `key`'s value in the top-level JSON object `text`, or undefined when the key
 * is absent or `text` is not an object. Assumes `text` is valid JSON (parse it first).
 */
export function rawMemberText(text: string, key: string): string | undefined {
  let i = skipWhitespace(text, 0);
  if (text[i] !== '{') return undefined;
  i = skipWhitespace(text, i + 1);
  // The last occurrence wins, as with JSON.parse.
  let found: string | undefined;
  while (i < text.length && text[i] === '"') {
    const keyEnd = skipString(text, i);
    const name = JSON.parse(text.slice(i, keyEnd)) as string;
    i = skipWhitespace(text, keyEnd);
    if (text[i] !== ':') return undefined;
    const start = skipWhitespace(text, i + 1);
    const end = skipValue(text, start);
    if (name === key) found = text.slice(start, end);
    i = skipWhitespace(text, end);
    if (text[i] === ',') i = skipWhitespace(text, i + 1);
  }
  return found;
}
