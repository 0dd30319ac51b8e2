/**
 * docker's display helpers (src/go-units.ts, tabwriter.ts)
 * against the expected strings of docker's own tests: go-units'
 * duration_test.go and size_test.go, stats' formatter tests, docker's
 * container formatter tests (Ellipsis, Quote) and Go's tabwriter rules.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tabwrite } from '../../../src/cli/berth/format/tabwriter.ts';
import { bytesSize, ellipsis, formatFixed, formatG, goQuote, humanDuration, humanSize, humanSizeWithPrecision, truncateId } from '../../../src/go-units.ts';

const S = 1000;
const MIN = 60 * S;
const H = 60 * MIN;
const DAY = 24 * H;
const WEEK = 7 * DAY;
const MONTH = 30 * DAY;
const YEAR = 365 * DAY;

test('humanDuration: go-units TestHumanDuration, case by case', () => {
  const cases: [string, number][] = [
    ['Less than a second', 450],
    ['1 second', 1 * S],
    ['45 seconds', 45 * S],
    ['46 seconds', 46 * S],
    ['59 seconds', 59 * S],
    ['About a minute', 60 * S],
    ['About a minute', 1 * MIN],
    ['3 minutes', 3 * MIN],
    ['35 minutes', 35 * MIN],
    ['35 minutes', 35 * MIN + 40 * S],
    ['45 minutes', 45 * MIN],
    ['45 minutes', 45 * MIN + 40 * S],
    ['46 minutes', 46 * MIN],
    ['59 minutes', 59 * MIN],
    ['About an hour', 1 * H],
    ['About an hour', 1 * H + 29 * MIN],
    ['2 hours', 1 * H + 31 * MIN],
    ['2 hours', 1 * H + 59 * MIN],
    ['3 hours', 3 * H],
    ['3 hours', 3 * H + 29 * MIN],
    ['4 hours', 3 * H + 31 * MIN],
    ['4 hours', 3 * H + 59 * MIN],
    ['4 hours', 3 * H + 60 * MIN],
    ['24 hours', 24 * H],
    ['36 hours', 1 * DAY + 12 * H],
    ['2 days', 2 * DAY],
    ['7 days', 7 * DAY],
    ['13 days', 13 * DAY + 5 * H],
    ['2 weeks', 2 * WEEK],
    ['2 weeks', 2 * WEEK + 4 * DAY],
    ['3 weeks', 3 * WEEK],
    ['4 weeks', 4 * WEEK],
    ['4 weeks', 4 * WEEK + 3 * DAY],
    ['4 weeks', 1 * MONTH],
    ['6 weeks', 1 * MONTH + 2 * WEEK],
    ['2 months', 2 * MONTH],
    ['2 months', 2 * MONTH + 2 * WEEK],
    ['3 months', 3 * MONTH],
    ['3 months', 3 * MONTH + 1 * WEEK],
    ['5 months', 5 * MONTH + 2 * WEEK],
    ['13 months', 13 * MONTH],
    ['23 months', 23 * MONTH],
    ['24 months', 24 * MONTH],
    ['2 years', 24 * MONTH + 2 * WEEK],
    ['3 years', 3 * YEAR + 2 * MONTH],
  ];
  for (const [want, ms] of cases) assert.equal(humanDuration(ms), want, `${ms} ms`);
});

test('bytesSize and humanSize: go-units TestBytesSize and TestHumanSize', () => {
  const KiB = 1024;
  const MiB = KiB * 1024;
  const GiB = MiB * 1024;
  const TiB = GiB * 1024;
  const PiB = TiB * 1024;
  assert.equal(bytesSize(1024), '1KiB');
  assert.equal(bytesSize(1024 * 1024), '1MiB');
  assert.equal(bytesSize(2 * MiB), '2MiB');
  assert.equal(bytesSize(3.42 * GiB), '3.42GiB');
  assert.equal(bytesSize(5.372 * TiB), '5.372TiB');
  assert.equal(bytesSize(2.22 * PiB), '2.22PiB');
  assert.equal(bytesSize(KiB * KiB * KiB * KiB * KiB * PiB), '1.049e+06YiB');
  assert.equal(humanSize(1000), '1kB');
  assert.equal(humanSize(1024), '1.024kB');
  assert.equal(humanSize(1000000), '1MB');
  assert.equal(humanSize(1048576), '1.049MB');
  assert.equal(humanSize(2e6), '2MB');
  assert.equal(humanSize(3.42e9), '3.42GB');
  assert.equal(humanSize(5.372e12), '5.372TB');
  assert.equal(humanSize(2.22e15), '2.22PB');
  assert.equal(humanSize(10000000000000 * 1e15), '1e+04YB');
});

test('humanSizeWithPrecision 3, as stats and ps -s use it: docker\'s formatter test values', () => {
  assert.equal(humanSizeWithPrecision(0.31, 3), '0.31B');
  assert.equal(humanSizeWithPrecision(12.3, 3), '12.3B');
  assert.equal(humanSizeWithPrecision(10, 3), '10B');
  assert.equal(humanSizeWithPrecision(0, 3), '0B');
  assert.equal(humanSizeWithPrecision(999_500, 3), '1e+03kB', 'Go\'s %g goes to an exponent when rounding reaches the precision');
});

test('formatG: Go\'s %g rounds an exact tie to even, toPrecision would round it up', () => {
  assert.equal(formatG(1.125, 3), '1.12');
  assert.equal(formatG(1.375, 3), '1.38');
  assert.equal(formatG(2.5, 1), '2');
  assert.equal(formatG(3.5, 1), '4');
  assert.equal(formatG(1.0625, 4), '1.062');
  assert.equal(humanSizeWithPrecision(1125, 3), '1.12kB');
  assert.equal(formatFixed(0.125, 2), '0.12', 'toFixed would say 0.13');
  assert.equal(formatFixed(0.375, 2), '0.38');
  assert.equal(formatFixed(20, 2), '20.00');
  assert.equal(formatFixed(0.1 + 0.2, 2), '0.30');
});

test('truncateId, ellipsis and goQuote as docker\'s formatter uses them', () => {
  assert.equal(truncateId('sha256:a5a665ff33eced1e0803148700880edab4269067ed77e27737a708d0d293fbf5'), 'a5a665ff33ec');
  assert.equal(truncateId('b95a83497c9161c9b444e3d70e1a9dfba0c1840d41720e146a95a08ebf938afc'), 'b95a83497c91');
  assert.equal(ellipsis('this-is-a-long-volume-name-and-will-be-truncated-if-trunc-is-set', 15), 'this-is-a-long…');
  assert.equal(ellipsis('short', 15), 'short');
  assert.equal(goQuote("sh -c 'ls -la'"), `"sh -c 'ls -la'"`);
  assert.equal(goQuote('a"b\\c\n\t\x00\x7f é…'), '"a\\"b\\\\c\\n\\t\\x00\\x7f é…"');
});

test('tabwrite: Go\'s tabwriter with docker\'s settings (minwidth 10, padding 3)', () => {
  assert.equal(tabwrite('CONTAINER\tCPU %\n'), 'CONTAINER   CPU %\n', 'docker\'s stats test: "CONTAINER   CPU %"');
  assert.equal(tabwrite('a\tb\tc\nlonger-than-ten\tx\ty\n'), 'a                 b         c\nlonger-than-ten   x         y\n', 'widest cell (15) plus 3');
  // Go's example: columns are blocks of consecutive lines with a cell there.
  assert.equal(tabwrite('aaaa\tbbb\td\naa\tb\tdd\na\t\naa\tcccc\teee', { minwidth: 0, padding: 1 }), 'aaaa bbb d\naa   b   dd\na    \naa   cccc eee');
  assert.equal(tabwrite('IMAGE\nubuntu\n'), 'IMAGE\nubuntu\n', 'text after the last tab is no column');
  assert.equal(tabwrite('ÉTAT\tx\nab\ty'), 'ÉTAT      x\nab        y', 'widths count characters, not bytes');
});
