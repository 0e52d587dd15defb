import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { keepSseAlive, SSE_KEEP_ALIVE_MS } from './sse-keep-alive';

/** A response that records what was written to it. */
function fakeStream() {
  const res = Object.assign(new EventEmitter(), { writableEnded: false, destroyed: false, write: jest.fn() });
  return res;
}

describe('keepSseAlive', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('writes an SSE comment line every 15 s', () => {
    const res = fakeStream();
    keepSseAlive(res as unknown as ServerResponse);

    expect(SSE_KEEP_ALIVE_MS).toBe(15_000);
    jest.advanceTimersByTime(14_999);
    expect(res.write).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(res.write).toHaveBeenCalledWith(': keep-alive\n\n');
    jest.advanceTimersByTime(30_000);
    expect(res.write).toHaveBeenCalledTimes(3);
  });

  it('stops when the stream closes', () => {
    const res = fakeStream();
    keepSseAlive(res as unknown as ServerResponse, 1000);
    jest.advanceTimersByTime(1000);

    res.emit('close');
    jest.advanceTimersByTime(10_000);

    expect(res.write).toHaveBeenCalledTimes(1);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('never writes to a response that has ended', () => {
    const res = fakeStream();
    keepSseAlive(res as unknown as ServerResponse, 1000);

    res.writableEnded = true;
    jest.advanceTimersByTime(5000);

    expect(res.write).not.toHaveBeenCalled();
    expect(jest.getTimerCount()).toBe(0);
  });
});
