import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  GiB,
  KiB,
  MiB,
  TiB,
  PiB,
  KB,
  MB,
  GB,
  TB,
  PB,
  bytesSize,
  customSize,
  fromHumanSize,
  humanDuration,
  humanSize,
  humanSizeWithPrecision,
  ramInBytes,
} from './units.js'

test('HumanSize (from go-units size_test.go)', () => {
  assert.equal(humanSize(1000), '1kB')
  assert.equal(humanSize(1024), '1.024kB')
  assert.equal(humanSize(1000000), '1MB')
  assert.equal(humanSize(1048576), '1.049MB')
  assert.equal(humanSize(2 * MB), '2MB')
  assert.equal(humanSize(3.42 * GB), '3.42GB')
  assert.equal(humanSize(5.372 * TB), '5.372TB')
  assert.equal(humanSize(2.22 * PB), '2.22PB')
  assert.equal(humanSize(1e21), '1ZB')
  assert.equal(humanSize(1e27), '1000YB')
  assert.equal(humanSize(1234567), '1.235MB')
  assert.equal(humanSize(0), '0B')
  assert.equal(humanSize(999), '999B')
  assert.equal(humanSize(1062500), '1.062MB') // exact tie: rounds half to even, as Go does
  assert.equal(humanSize(0.5), '0.5B')
  assert.equal(humanSize(0.00001), '1e-05B')
  assert.equal(humanSizeWithPrecision(1234567, 3), '1.23MB')
  assert.equal(humanSizeWithPrecision(187000000, 3), '187MB')
  assert.equal(humanSizeWithPrecision(1999999, 3), '2MB')
})

test('BytesSize (from go-units size_test.go)', () => {
  assert.equal(bytesSize(1024), '1KiB')
  assert.equal(bytesSize(1024 * 1024), '1MiB')
  assert.equal(bytesSize(1048576), '1MiB')
  assert.equal(bytesSize(2 * MiB), '2MiB')
  assert.equal(bytesSize(3.42 * GiB), '3.42GiB')
  assert.equal(bytesSize(5.372 * TiB), '5.372TiB')
  assert.equal(bytesSize(2.22 * PiB), '2.22PiB')
  assert.equal(bytesSize(1536), '1.5KiB')
  assert.equal(bytesSize(0), '0B')
  assert.equal(customSize('%.2f %s', 1536, 1024, ['B', 'K']), '1.50 K')
})

test('FromHumanSize (from go-units size_test.go)', () => {
  const ok: Array<[string, number]> = [
    ['0', 0],
    ['0b', 0],
    ['0B', 0],
    ['0 B', 0],
    ['32', 32],
    ['32b', 32],
    ['32B', 32],
    ['32k', 32 * KB],
    ['32K', 32 * KB],
    ['32kb', 32 * KB],
    ['32Kb', 32 * KB],
    ['32Mb', 32 * MB],
    ['32Gb', 32 * GB],
    ['32Tb', 32 * TB],
    ['32Pb', 32 * PB],
    ['32.5KB', 32.5 * KB],
    ['32.5 KB', 32.5 * KB],
    ['32.5KiB', 32.5 * KB],
    ['32.3', 32],
    ['1e3', 1000],
    ['.5k', 500],
    ['32.', 32],
  ]
  for (const [s, want] of ok) assert.equal(fromHumanSize(s), want, s)
  const bad: Array<[string, string]> = [
    ['', "invalid size: ''"],
    ['hello', "invalid size: 'hello'"],
    ['-32', "invalid size: '-32'"],
    [' 32 ', 'strconv.ParseFloat: parsing " 32": invalid syntax'],
    ['32m b', 'strconv.ParseFloat: parsing "32m": invalid syntax'],
    ['32bm', "invalid suffix: 'bm'"],
    ['32kbb', "invalid suffix: 'kbb'"],
    ['32x', "invalid suffix: 'x'"],
    ['32kx', "invalid suffix: 'kx'"],
    ['32kibx', "invalid suffix: 'kibx'"],
    ['32.5.4kb', 'strconv.ParseFloat: parsing "32.5.4": invalid syntax'],
    ['..3', 'strconv.ParseFloat: parsing "..3": invalid syntax'],
  ]
  for (const [s, msg] of bad) assert.throws(() => fromHumanSize(s), { message: msg }, s)
})

test('RAMInBytes (from go-units size_test.go)', () => {
  const ok: Array<[string, number]> = [
    ['32', 32],
    ['32b', 32],
    ['32B', 32],
    ['32k', 32 * KiB],
    ['32K', 32 * KiB],
    ['32kb', 32 * KiB],
    ['32Kb', 32 * KiB],
    ['32Mb', 32 * MiB],
    ['32MB', 32 * MiB],
    ['32MiB', 32 * MiB],
    ['32Gb', 32 * GiB],
    ['32Tb', 32 * TiB],
    ['32Pb', 32 * PiB],
    ['32PB', 32 * PiB],
    ['32P', 32 * PiB],
    ['32.3', 32],
    ['512m', 536870912],
    ['1g', 1073741824],
    ['1.5g', 1610612736],
    ['6M', 6 * MiB],
    ['32.b', 32],
  ]
  for (const [s, want] of ok) assert.equal(ramInBytes(s), want, s)
  for (const s of ['', 'hello', '-32', '32bm', '32x', ' 32 ']) assert.throws(() => ramInBytes(s), Error, s)
})

test('HumanDuration (from go-units duration_test.go)', () => {
  const s = 1000
  const min = 60 * s
  const h = 60 * min
  const day = 24 * h
  const week = 7 * day
  const month = 30 * day
  const year = 365 * day
  const cases: Array<[number, string]> = [
    [450, 'Less than a second'],
    [-5 * s, 'Less than a second'],
    [1 * s, '1 second'],
    [45 * s, '45 seconds'],
    [46 * s, '46 seconds'],
    [59 * s, '59 seconds'],
    [60 * s, 'About a minute'],
    [1 * min, 'About a minute'],
    [3 * min, '3 minutes'],
    [35 * min, '35 minutes'],
    [35 * min + 40 * s, '35 minutes'],
    [45 * min, '45 minutes'],
    [45 * min + 40 * s, '45 minutes'],
    [46 * min, '46 minutes'],
    [59 * min, '59 minutes'],
    [1 * h, 'About an hour'],
    [1 * h + 29 * min, 'About an hour'],
    [1 * h + 31 * min, '2 hours'],
    [1 * h + 59 * min, '2 hours'],
    [3 * h, '3 hours'],
    [3 * h + 29 * min, '3 hours'],
    [3 * h + 31 * min, '4 hours'],
    [3 * h + 59 * min, '4 hours'],
    [3 * h + 60 * min, '4 hours'],
    [24 * h, '24 hours'],
    [1 * day + 12 * h, '36 hours'],
    [2 * day, '2 days'],
    [7 * day, '7 days'],
    [13 * day + 5 * h, '13 days'],
    [2 * week, '2 weeks'],
    [2 * week + 4 * day, '2 weeks'],
    [3 * week, '3 weeks'],
    [4 * week, '4 weeks'],
    [4 * week + 3 * day, '4 weeks'],
    [1 * month, '4 weeks'],
    [1 * month + 2 * week, '6 weeks'],
    [2 * month, '2 months'],
    [2 * month + 2 * week, '2 months'],
    [3 * month, '3 months'],
    [3 * month + 1 * week, '3 months'],
    [5 * month + 2 * week, '5 months'],
    [13 * month, '13 months'],
    [23 * month, '23 months'],
    [24 * month, '24 months'],
    [24 * month + 2 * week, '2 years'],
    [3 * year + 2 * month, '3 years'],
  ]
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, String(ms))
})
