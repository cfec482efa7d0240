import { strict as assert } from 'node:assert'
import { describe, it } from 'node:test'
import { mountSpecFromWire, mountSpecToWire, parseMountSpec } from './mounts.js'

describe('--mount: the domain form and its wire adapter', () => {
  it('maps the wire form both ways', () => {
    const wire = { Type: 'volume', Source: 'data', Target: '/d', ReadOnly: true, VolumeOptions: { NoCopy: true, Labels: { a: 'b' }, DriverConfig: { Name: 'local', Options: { type: 'tmpfs' } } } }
    const spec = mountSpecFromWire(wire)
    assert.deepEqual(spec, { type: 'volume', source: 'data', target: '/d', readOnly: true, volumeOptions: { noCopy: true, labels: { a: 'b' }, driverConfig: { name: 'local', options: { type: 'tmpfs' } } } })
    assert.deepEqual(mountSpecToWire(spec), wire)
  })

  it('parses a MountSpec with Docker\'s checks', () => {
    assert.deepEqual(parseMountSpec({ type: 'bind', source: '/src/', target: '/dst/', readOnly: false, bindOptions: { propagation: 'rshared' } }),
      { type: 'bind', source: '/src', destination: '/dst', readOnly: false, mode: '', propagation: 'rshared', noCopy: false, createSource: false })
    assert.deepEqual(parseMountSpec({ type: 'tmpfs', source: '', target: '/t', readOnly: false, tmpfsOptions: { sizeBytes: 1024, mode: 0o1777 } }).tmpfsOptions, ['size=1024', 'mode=1777'])
    assert.throws(() => parseMountSpec({ type: 'bind', source: '/s', target: '/', readOnly: false }), /invalid mount config for type "bind": invalid specification: destination can't be '\/'/)
    assert.throws(() => parseMountSpec({ type: 'volume', source: 'x', target: '/v', readOnly: false, bindOptions: { propagation: 'shared' } }), /invalid mount config for type "volume": field BindOptions must not be specified/)
    assert.throws(() => parseMountSpec({ type: '', source: '', target: '/v', readOnly: false }), /^Error: invalid mount config: mount type unknown$|invalid mount config: mount type unknown/)
  })
})
