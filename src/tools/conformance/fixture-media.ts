/** Media the conformance fixtures return: as small as a valid file of each type can be. */

/** A 1×1 RGBA PNG. */
export const PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGOQz7/2HwAEeQJk8mXiKgAAAABJRU5ErkJggg==';

/** One millisecond of silence: RIFF/WAVE, PCM, 8 kHz, mono, 16-bit. */
export const WAV_BASE64 = 'UklGRjQAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YRAAAAAAAAAAAAAAAAAAAAAAAAAA';

/** Waits `ms`, or rejects when `signal` aborts (a cancelled or timed-out call stops waiting). */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
