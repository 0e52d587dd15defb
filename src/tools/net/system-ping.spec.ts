import { ToolError } from '@portico/mcp-core';
import { fakePing } from '../../../test/support/net-servers';
import { tempDirs } from '../../../test/support/temp-dirs';
import { loadConfig } from '../../config/app-config';
import { parsePingOutput, pingArguments, SystemPing } from './system-ping';

/** What iputils ping printed on this kind of machine: two replies, one lost. */
const IPUTILS_OUTPUT = `PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.
64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.632 ms
64 bytes from 127.0.0.1: icmp_seq=3 ttl=64 time=0.036 ms

--- 127.0.0.1 ping statistics ---
3 packets transmitted, 2 received, 33.3333% packet loss, time 409ms
rtt min/avg/max/mdev = 0.036/0.334/0.632/0.298 ms
`;

describe('SystemPing', () => {
  const tempDir = tempDirs('portico-ping-');

  describe('pingArguments', () => {
    it('passes only checked values: family, count, interval, wait, then the address after --', () => {
      expect(pingArguments('127.0.0.1', 3, 1500)).toEqual(['-4', '-n', '-c', '3', '-i', '0.2', '-W', '2', '--', '127.0.0.1']);
      expect(pingArguments('2001:db8::1', 1, 200)).toEqual(['-6', '-n', '-c', '1', '-i', '0.2', '-W', '1', '--', '2001:db8::1']);
    });

    it.each(['example.com', '-c', '127.0.0.1; rm -rf /', '$(id)', '0x7f.1', ''])('refuses %p as an address', (address) => {
      expect(() => pingArguments(address, 1, 1000)).toThrow('not an IP address');
    });

    it.each([0, 11, 2.5])('refuses count %p', (count) => {
      expect(() => pingArguments('127.0.0.1', count, 1000)).toThrow('count out of range');
    });
  });

  it('reads echo replies from iputils output, lost ones left out', () => {
    expect(parsePingOutput(IPUTILS_OUTPUT)).toEqual([
      { seq: 1, timeMs: 0.632 },
      { seq: 3, timeMs: 0.036 },
    ]);
    expect(parsePingOutput('64 bytes from ::1: icmp_seq=7 ttl=64 time<1 ms')).toEqual([{ seq: 7, timeMs: 1 }]);
    expect(parsePingOutput('PING 10.0.0.1 (10.0.0.1) 56(84) bytes of data.\n')).toEqual([]);
  });

  it('runs NET_PING_PATH with the argument list, no shell, and parses what it prints', async () => {
    const ping = fakePing(tempDir());
    const system = new SystemPing(loadConfig({ NET_ICMP_ENABLED: 'true', NET_PING_PATH: ping.path }, '/srv'));

    expect(system.program()).toBe(ping.path);
    expect(await system.ping('127.0.0.1', 3, 1000)).toEqual([
      { seq: 1, timeMs: 0.03 },
      { seq: 2, timeMs: 0.04 },
      { seq: 3, timeMs: 0.05 },
    ]);
    expect(ping.calls()).toEqual([['-4', '-n', '-c', '3', '-i', '0.2', '-W', '1', '--', '127.0.0.1']]);
  });

  it('finds ping on PATH when NET_PING_PATH is unset', () => {
    const dir = tempDir();
    const ping = fakePing(dir);
    const path = process.env.PATH;
    process.env.PATH = `/nonexistent:${dir}`;
    try {
      expect(new SystemPing(loadConfig({}, '/srv')).program()).toBe(ping.path);
    } finally {
      process.env.PATH = path;
    }
  });

  it('says ICMP is unavailable when there is no program', async () => {
    const system = new SystemPing(loadConfig({ NET_ICMP_ENABLED: 'true', NET_PING_PATH: '/nonexistent/ping' }, '/srv'));

    expect(system.program()).toBeUndefined();
    const error = await system.ping('127.0.0.1', 1, 1000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolError);
    expect(error).toMatchObject({ code: 'net_icmp_unavailable', message: 'ICMP ping is not available on this server (no ping program); use method "tcp"' });
  });
});
