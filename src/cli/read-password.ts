import type { Readable, Writable } from 'node:stream';

/**
 * Reads a password for `portico users`: from a terminal with a hidden
 * prompt on stderr (asked twice when `confirm`), otherwise the first line
 * of stdin (`printf '%s\n' "$PW" | portico users add alice`). Never from the
 * command line, where `ps` and shell history would show it.
 */
export async function readPassword(
  { confirm }: { confirm: boolean },
  input: Readable & { isTTY?: boolean; setRawMode?: (on: boolean) => unknown } = process.stdin,
  output: Writable = process.stderr,
): Promise<string> {
  if (!input.isTTY || !input.setRawMode) {
    let text = '';
    for await (const chunk of input) text += chunk.toString();
    const password = text.split(/\r?\n/)[0];
    if (!password) throw new Error('no password on stdin: pipe it in (first line), or run the command in a terminal');
    return password;
  }
  const password = await promptHidden('Password: ', input as Readable & { setRawMode(on: boolean): unknown }, output);
  if (confirm && (await promptHidden('Repeat the password: ', input as Readable & { setRawMode(on: boolean): unknown }, output)) !== password) {
    throw new Error('the two passwords differ');
  }
  return password;
}

/** One line from a terminal in raw mode, echoing nothing. Ctrl-C and Ctrl-D cancel. */
function promptHidden(prompt: string, input: Readable & { setRawMode(on: boolean): unknown }, output: Writable): Promise<string> {
  return new Promise((resolve, reject) => {
    output.write(prompt);
    input.setRawMode(true);
    input.setEncoding('utf8');
    input.resume();
    let value = '';
    const finish = (error?: Error) => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      output.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003' || ch === '\u0004') return finish(new Error('cancelled'));
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else if (ch >= ' ') value += ch;
      }
    };
    input.on('data', onData);
  });
}
