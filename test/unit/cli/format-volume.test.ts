/**
 * `volume ls` output (src/cli/berth/format/volume.ts) against docker's
 * volume formatter tests (cli/command/formatter/volume_test.go), in the
 * natural name order `docker volume ls` sorts by.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { naturalCompare, renderVolumes, type VolumeSummary } from '../../../src/cli/berth/format/volume.ts';
import { isBerthError } from '../../../src/errors.ts';

const VOLUMES: VolumeSummary[] = [
  { Name: 'foobar_baz', Driver: 'foo', Mountpoint: '' },
  { Name: 'foobar_bar', Driver: 'bar', Mountpoint: '' },
];

test('docker\'s TestVolumeContextWrite (sorted by name, as volume ls does)', () => {
  assert.equal(renderVolumes(VOLUMES, {}), 'DRIVER    VOLUME NAME\nbar       foobar_bar\nfoo       foobar_baz\n');
  assert.equal(renderVolumes(VOLUMES, { quiet: true }), 'foobar_bar\nfoobar_baz\n');
  assert.equal(renderVolumes(VOLUMES, { format: 'table {{.Name}}' }), 'VOLUME NAME\nfoobar_bar\nfoobar_baz\n');
  assert.equal(renderVolumes(VOLUMES, { format: 'table {{.Name}}', quiet: true }), 'VOLUME NAME\nfoobar_bar\nfoobar_baz\n', '-q leaves a custom table alone, as docker');
  assert.equal(renderVolumes(VOLUMES, { format: 'raw' }), 'name: foobar_bar\ndriver: bar\n\nname: foobar_baz\ndriver: foo\n\n');
  assert.equal(renderVolumes(VOLUMES, { format: 'raw', quiet: true }), 'name: foobar_bar\nname: foobar_baz\n');
  assert.equal(renderVolumes(VOLUMES, { format: '{{.Name}}' }), 'foobar_bar\nfoobar_baz\n');
  assert.throws(() => renderVolumes(VOLUMES, { format: '{{InvalidFunction}}' }), (err) => isBerthError(err, 'invalid_format') && err.message.endsWith('template: :1: function "InvalidFunction" not defined'));
});

test('{{json .}} with docker\'s keys; labels, links and size', () => {
  assert.deepEqual(JSON.parse(renderVolumes([VOLUMES[0] as VolumeSummary], { format: '{{json .}}' })), {
    Availability: 'N/A',
    Driver: 'foo',
    Group: 'N/A',
    Labels: '',
    Links: 'N/A',
    Mountpoint: '',
    Name: 'foobar_baz',
    Scope: '',
    Size: 'N/A',
    Status: 'N/A',
  });
  const v: VolumeSummary = { Name: 'data', Driver: 'local', Mountpoint: '/var/lib/berth/volumes/data/_data', Scope: 'local', Labels: { label2: 'value2', label1: 'value1' }, UsageData: { Size: 1_048_576, RefCount: 2 } };
  assert.equal(renderVolumes([v], { format: '{{.Labels}}|{{.Label "label2"}}|{{.Links}}|{{.Size}}|{{.Scope}}' }), 'label1=value1,label2=value2|value2|2|1.049MB|local\n');
});

test('natural order: digits compare as numbers', () => {
  assert.deepEqual(['v10', 'v2', 'v1', 'a', 'v02'].sort(naturalCompare), ['a', 'v1', 'v2', 'v02', 'v10']);
});
