/**
 * The pool gives a namespace back only when no socket is left in it; the
 * IP protocols are counted from the namespace's sockstat files (the
 * kernel's per-namespace counts, where /proc/net/tcp walks the global
 * tables), so each count they hold must be summed, TCP's TIME_WAITs too.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sockstatCount } from '../../../src/network/netns.ts';

test('sockstat: inuse of TCP, UDP, UDP-Lite and raw, and TCP\'s TIME_WAITs; orphan, alloc and mem are global and not counted', () => {
  const empty = 'sockets: used 0\nTCP: inuse 0 orphan 31 tw 0 alloc 49 mem 134\nUDP: inuse 0 mem 0\nUDPLITE: inuse 0\nRAW: inuse 0\nFRAG: inuse 0 memory 0\n';
  assert.equal(sockstatCount(empty), 0);
  assert.equal(sockstatCount('sockets: used 3\nTCP: inuse 0 orphan 31 tw 1 alloc 49 mem 134\nUDP: inuse 0 mem 0\nUDPLITE: inuse 0\nRAW: inuse 0\nFRAG: inuse 2 memory 9\n'), 1, 'a TIME_WAIT alone');
  assert.equal(sockstatCount('TCP: inuse 2 orphan 0 tw 3 alloc 9 mem 1\nUDP: inuse 1 mem 0\nUDPLITE: inuse 1\nRAW: inuse 1\n'), 8);
});

test('sockstat6: every protocol\'s inuse; a kernel without IPv6 has no file (read as empty)', () => {
  assert.equal(sockstatCount('TCP6: inuse 0\nUDP6: inuse 1\nUDPLITE6: inuse 0\nRAW6: inuse 2\nFRAG6: inuse 4 memory 0\n'), 3);
  assert.equal(sockstatCount('\n'), 0);
});
