/**
 * `berth ps` output (src/cli/berth/format/ps.ts) against docker's own
 * formatter tests (cli/command/formatter/container_test.go): the default
 * table with and without sizes, -q, raw, custom formats, {{json .}} with
 * docker's keys, DisplayablePorts, the truncation rules; and STATUS as the
 * daemon's State.String() writes it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { asContainerSummary, containerContext, displayablePorts, goTimeString, renderPs, statusText, type ContainerSummary, type PortSummary } from '../../../src/cli/berth/format/ps.ts';
import { isBerthError } from '../../../src/errors.ts';

const NOW = Date.parse('2026-12-06T23:59:01Z');
const DAY_AGO = NOW / 1000 - 24 * 3600;

function summary(over: Partial<ContainerSummary>): ContainerSummary {
  return { Id: '', Names: [], Image: '', Command: '', Created: 0, Ports: [], Labels: {}, State: '', Status: '', Mounts: [], ...over };
}

const TWO = [
  summary({ Id: 'containerID1', Names: ['/foobar_baz'], Image: 'ubuntu', Created: DAY_AGO, State: 'running' }),
  summary({ Id: 'containerID2', Names: ['/foobar_bar'], Image: 'ubuntu', Created: DAY_AGO, State: 'running' }),
];

test('the default table, with -s, and -q: docker\'s TestContainerContextWrite', () => {
  assert.equal(
    renderPs(TWO, { size: true }, { now: NOW }),
    'CONTAINER ID   IMAGE     COMMAND   CREATED        STATUS    PORTS     NAMES        SIZE\n' +
      'containerID1   ubuntu    ""        24 hours ago                       foobar_baz   0B\n' +
      'containerID2   ubuntu    ""        24 hours ago                       foobar_bar   0B\n',
  );
  assert.equal(
    renderPs(TWO, { format: 'table' }, { now: NOW }),
    'CONTAINER ID   IMAGE     COMMAND   CREATED        STATUS    PORTS     NAMES\n' +
      'containerID1   ubuntu    ""        24 hours ago                       foobar_baz\n' +
      'containerID2   ubuntu    ""        24 hours ago                       foobar_bar\n',
  );
  assert.equal(renderPs(TWO, { format: 'table {{.Image}}' }), 'IMAGE\nubuntu\nubuntu\n');
  assert.equal(renderPs(TWO, { format: 'table {{.Image}}', quiet: true }), 'containerID1\ncontainerID2\n', '-q wins over a format, as docker');
  assert.equal(renderPs(TWO, { quiet: true }), 'containerID1\ncontainerID2\n');
  assert.equal(renderPs(TWO, { format: 'table {{.State}}', size: true }), 'STATE\nrunning\nrunning\n');
  assert.equal(renderPs(TWO, { format: '{{.Image}}' }), 'ubuntu\nubuntu\n');
  assert.equal(renderPs(TWO, { format: 'table {{split .Image ":"}}' }), 'IMAGE\n[ubuntu]\n[ubuntu]\n');
  assert.equal(renderPs([], { format: 'table {{.Image}}\t{{.Size}}' }), 'IMAGE     SIZE\n');
  assert.equal(renderPs([], { format: '{{.Image}}' }), '');
});

test('raw format: docker\'s expected text', () => {
  const created = goTimeString(DAY_AGO);
  const one = (id: string, name: string): string =>
    `container_id: ${id}\nimage: ubuntu\ncommand: ""\ncreated_at: ${created}\nstate: running\nstatus:\nnames: ${name}\nlabels:\nports:\n\n`;
  assert.equal(renderPs(TWO, { format: 'raw' }), one('containerID1', 'foobar_baz') + one('containerID2', 'foobar_bar'));
  assert.equal(renderPs(TWO, { format: 'raw', quiet: true }), 'container_id: containerID1\ncontainer_id: containerID2\n');
});

test('{{json .}}: docker\'s keys and values (TestContainerContextWriteJSON)', () => {
  const created = NOW / 1000 - 65;
  const out = renderPs([summary({ Id: 'containerID1', Names: ['/foobar_baz'], Image: 'ubuntu', Created: created, State: 'running' })], { format: '{{json .}}' }, { now: NOW });
  assert.deepEqual(JSON.parse(out), {
    Command: '""',
    CreatedAt: goTimeString(created),
    ID: 'containerID1',
    Image: 'ubuntu',
    Labels: '',
    LocalVolumes: '0',
    Mounts: '',
    Names: 'foobar_baz',
    Networks: '',
    Ports: '',
    RunningFor: 'About a minute ago',
    Size: '0B',
    State: 'running',
    Status: '',
  });
  assert.equal(renderPs(TWO, { format: '{{json .ID}}' }), '"containerID1"\n"containerID2"\n');
  // docker's context marshals through json.Marshal (HTML escaped); the json function itself does not escape.
  const published = [summary({ Ports: [{ IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }] })];
  assert.match(renderPs(published, { format: '{{json .}}' }), /"Ports":"0\.0\.0\.0:8080-\\u003e80\/tcp"/);
  assert.equal(renderPs(published, { format: '{{json .Ports}}' }), '"0.0.0.0:8080->80/tcp"\n');
});

test('field by field: docker\'s TestContainerPsContext', () => {
  const id = 'b95a83497c9161c9b444e3d70e1a9dfba0c1840d41720e146a95a08ebf938afc';
  const ctx = (c: Partial<ContainerSummary>, trunc = true): Record<string, unknown> => containerContext(summary(c), { trunc, now: NOW });
  assert.equal(ctx({ Id: id }).ID, 'b95a83497c91');
  assert.equal(ctx({ Id: id }, false).ID, id);
  assert.equal(ctx({ Names: ['/foobar_baz'] }).Names, 'foobar_baz');
  assert.equal(ctx({ Names: ['/web', '/other/alias'] }, false).Names, 'web,other/alias');
  assert.equal(ctx({ Image: 'verylongimagename' }).Image, 'verylongimagename');
  const img = { Image: 'a5a665ff33eced1e0803148700880edab4', ImageID: 'a5a665ff33eced1e0803148700880edab4269067ed77e27737a708d0d293fbf5' };
  assert.equal(ctx(img).Image, 'a5a665ff33ec');
  assert.equal(ctx(img, false).Image, 'a5a665ff33eced1e0803148700880edab4');
  assert.equal(ctx({ Image: '' }).Image, '<no image>');
  assert.equal(ctx({ Image: 'busybox:1.36@sha256:' + 'a'.repeat(64) }).Image, 'busybox:1.36', 'the digest dropped, the tag kept');
  assert.equal(ctx({ Command: "sh -c 'ls -la'" }).Command, `"sh -c 'ls -la'"`);
  assert.equal(ctx({ Command: "sh -c 'while true; do echo hi; done'" }).Command, `"sh -c 'while true; …"`, '19 characters and an ellipsis');
  assert.equal(ctx({ Command: "sh -c 'while true; do echo hi; done'" }, false).Command, `"sh -c 'while true; do echo hi; done'"`);
  assert.equal(ctx({ Ports: [{ PrivatePort: 8080, PublicPort: 8080, Type: 'tcp' }] }).Ports, '8080/tcp');
  assert.equal(ctx({ Status: 'RUNNING' }).Status, 'RUNNING');
  assert.equal(ctx({ SizeRw: 10 }).Size, '10B');
  assert.equal(ctx({ SizeRw: 10, SizeRootFs: 20 }).Size, '10B (virtual 20B)');
  assert.equal(ctx({}).Labels, '');
  assert.equal(ctx({ Labels: { storage: 'ssd', cpu: '6' } }).Labels, 'cpu=6,storage=ssd');
  assert.equal(ctx({ Created: NOW / 1000 - 65 }).RunningFor, 'About a minute ago');
  const long = { Mounts: [{ Name: 'this-is-a-long-volume-name-and-will-be-truncated-if-trunc-is-set', Driver: 'local', Source: '/a/path' }] };
  assert.equal(ctx(long).Mounts, 'this-is-a-long…');
  assert.equal(ctx({ Mounts: [{ Driver: 'local', Source: '/a/path' }] }, false).Mounts, '/a/path');
  assert.equal(ctx(long).LocalVolumes, '1');
  const label = ctx({ Labels: { 'com.docker.swarm.swarm-id': '33' } }).Label as (k: string) => string;
  assert.equal(label('com.docker.swarm.swarm-id'), '33');
  assert.equal(label('anything.really'), '');
  assert.equal(renderPs([summary({ Labels: { 'com.example.app-name': 'web' } })], { format: 'table {{.Label "com.example.app-name"}}' }), 'app name\nweb\n', 'the header of a label column as docker makes it');
});

test('displayablePorts: docker\'s TestDisplayablePorts', () => {
  const cases: [PortSummary[], string][] = [
    [[{ PrivatePort: 9988, Type: 'tcp' }], '9988/tcp'],
    [[{ PrivatePort: 9988, Type: 'udp' }], '9988/udp'],
    [[{ IP: '0.0.0.0', PrivatePort: 9988, Type: 'tcp' }], '0.0.0.0:0->9988/tcp'],
    [[{ PrivatePort: 9988, PublicPort: 8899, Type: 'tcp' }], '9988/tcp'],
    [[{ IP: '4.3.2.1', PrivatePort: 9988, PublicPort: 8899, Type: 'tcp' }], '4.3.2.1:8899->9988/tcp'],
    [[{ IP: '4.3.2.1', PrivatePort: 9988, PublicPort: 9988, Type: 'tcp' }], '4.3.2.1:9988->9988/tcp'],
    [[{ PrivatePort: 9988, Type: 'udp' }, { PrivatePort: 9988, Type: 'udp' }], '9988/udp, 9988/udp'],
    [[{ IP: '1.2.3.4', PublicPort: 9998, PrivatePort: 9998, Type: 'udp' }, { IP: '1.2.3.4', PublicPort: 9999, PrivatePort: 9999, Type: 'udp' }], '1.2.3.4:9998-9999->9998-9999/udp'],
    [[{ IP: '1.2.3.4', PublicPort: 8887, PrivatePort: 9998, Type: 'udp' }, { IP: '1.2.3.4', PublicPort: 8888, PrivatePort: 9999, Type: 'udp' }], '1.2.3.4:8887->9998/udp, 1.2.3.4:8888->9999/udp'],
    [[{ PrivatePort: 9998, Type: 'udp' }, { PrivatePort: 9999, Type: 'udp' }], '9998-9999/udp'],
    [[{ IP: '1.2.3.4', PrivatePort: 6677, PublicPort: 7766, Type: 'tcp' }, { PrivatePort: 9988, PublicPort: 8899, Type: 'udp' }], '9988/udp, 1.2.3.4:7766->6677/tcp'],
    [
      [
        { IP: '1.2.3.4', PrivatePort: 9988, PublicPort: 8899, Type: 'udp' },
        { IP: '1.2.3.4', PrivatePort: 9988, PublicPort: 8899, Type: 'tcp' },
        { IP: '4.3.2.1', PrivatePort: 2233, PublicPort: 3322, Type: 'tcp' },
      ],
      '4.3.2.1:3322->2233/tcp, 1.2.3.4:8899->9988/tcp, 1.2.3.4:8899->9988/udp',
    ],
    [
      [
        { PrivatePort: 9988, PublicPort: 8899, Type: 'udp' },
        { IP: '1.2.3.4', PrivatePort: 6677, PublicPort: 7766, Type: 'tcp' },
        { IP: '4.3.2.1', PrivatePort: 2233, PublicPort: 3322, Type: 'tcp' },
      ],
      '9988/udp, 4.3.2.1:3322->2233/tcp, 1.2.3.4:7766->6677/tcp',
    ],
  ];
  for (const [ports, want] of cases) assert.equal(displayablePorts(ports), want, JSON.stringify(ports));
});

test('statusText: the daemon\'s State.String()', () => {
  const base = { running: false, paused: false, restarting: false, dead: false, removing: false, startedAt: 0, finishedAt: 0, exitCode: 0 };
  assert.equal(statusText(base, NOW), 'Created');
  assert.equal(statusText({ ...base, running: true, startedAt: NOW - 3 * 60_000 }, NOW), 'Up 3 minutes');
  assert.equal(statusText({ ...base, running: true, startedAt: NOW - 2000, health: 'healthy' }, NOW), 'Up 2 seconds (healthy)');
  assert.equal(statusText({ ...base, running: true, startedAt: NOW - 2000, health: 'starting' }, NOW), 'Up 2 seconds (health: starting)');
  assert.equal(statusText({ ...base, running: true, paused: true, startedAt: NOW - 1000 }, NOW), 'Up 1 second (Paused)');
  assert.equal(statusText({ ...base, running: true, restarting: true, exitCode: 1, startedAt: NOW - 9000, finishedAt: NOW - 5000 }, NOW), 'Restarting (1) 5 seconds ago');
  assert.equal(statusText({ ...base, startedAt: NOW - 3 * 3600_000, finishedAt: NOW - 2 * 3600_000 }, NOW), 'Exited (0) 2 hours ago');
  assert.equal(statusText({ ...base, dead: true, startedAt: 1 }, NOW), 'Dead');
  assert.equal(statusText({ ...base, removing: true, startedAt: 1 }, NOW), 'Removal In Progress');
});

test('goTimeString: Go\'s time.Time.String() in UTC', () => {
  if (new Date(0).getTimezoneOffset() !== 0 || process.env['TZ'] !== undefined) {
    // The zone's abbreviation depends on the machine's zone; the format is checked where it is UTC.
    assert.match(goTimeString(0), /^1970-01-01 \d\d:\d\d:00 [+-]\d{4} \S+$|^1969-12-31 \d\d:\d\d:00 [+-]\d{4} \S+$/);
    return;
  }
  assert.equal(goTimeString(Date.parse('2026-12-06T23:59:01Z') / 1000), '2026-12-06 23:59:01 +0000 UTC');
});

test('asContainerSummary: the daemon\'s answer is checked field by field', () => {
  const ok = asContainerSummary({
    Id: 'abc',
    Names: ['/web'],
    Image: 'busybox',
    ImageID: 'sha256:1',
    Command: 'sh',
    Created: 1,
    Ports: [{ PrivatePort: 80, Type: 'tcp' }],
    Labels: { a: 'b' },
    State: 'running',
    Status: 'Up 1 second',
    HostConfig: { NetworkMode: 'none' },
    NetworkSettings: { Networks: { none: {} } },
    Mounts: [{ Name: 'v', Source: '/s', Driver: 'local', Destination: '/d' }],
  });
  assert.equal(containerContext(ok, { trunc: true }).Networks, 'none');
  assert.throws(() => asContainerSummary({ Id: 1 }), (err) => isBerthError(err, 'daemon_response_invalid') && /\[0\]\.Id: not a string/.test(err.message));
  assert.throws(() => asContainerSummary('x', 3), (err) => isBerthError(err, 'daemon_response_invalid') && /\[3\]: not an object/.test(err.message));
});
