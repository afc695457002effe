// Independent Parquet readers/writers for BatchCohort's tests (hyparquet, hyparquet-writer, DuckDB, parquet-wasm
// with apache-arrow).
// Every value is printed as text (null stays null) so that no JSON number rounding hides a difference:
//   integers and int64 → decimal text; doubles → shortest round-trip text (NaN, Infinity, -Infinity, or DuckDB's
//   nan/inf); booleans → true/false; timestamps → microseconds since the Unix epoch.
// usage:
//   node parquet_oracle.mjs read-hyparquet FILE       → {"schema":[...], "columns":{name:[...]}}
//   node parquet_oracle.mjs read-duckdb FILE          → same, read by DuckDB
//   node parquet_oracle.mjs read-parquet-wasm FILE    → same, read by parquet-wasm (Rust parquet crate) into Arrow
//   node parquet_oracle.mjs read-all FILE...          → {hyparquet, duckdb, parquet_wasm} (several files: {files:[...]})
//   node parquet_oracle.mjs duckdb-count FILE PRED... → DuckDB's count(*) WHERE PRED for each predicate (row-group
//                                                       statistics decide which row groups DuckDB reads)
//   node parquet_oracle.mjs duckdb-summary FILE       → per column: count, min, max (numbers and timestamps as text)
//   node parquet_oracle.mjs write-duckdb DIR          → DuckDB writes DIR/duckdb_{snappy,gzip,uncompressed,zstd,v2}.parquet; prints the data
//   node parquet_oracle.mjs write-hyparquet DIR       → hyparquet-writer writes DIR/hyparquet_{snappy,uncompressed}.parquet; prints the data
//   node parquet_oracle.mjs bench-duckdb FILE OUT [CODEC] → times DuckDB reading FILE and writing OUT (default snappy)
import fs from 'node:fs'
import path from 'node:path'

const [cmd, a1, a2] = process.argv.slice(2)

function text(v) {
  if (v === null || v === undefined) return null
  if (typeof v === 'bigint') return v.toString()
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : String(v)
  if (typeof v === 'boolean') return v ? 'true' : 'false'
  return String(v)
}

async function readHyparquet(file) {
  const { parquetReadObjects, parquetMetadata, parquetSchema } = await import('hyparquet')
  const buf = fs.readFileSync(file)
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)
  const meta = parquetMetadata(ab)
  const micros = {
    timestampFromMilliseconds: (ms) => (BigInt(ms) * 1000n).toString(),
    timestampFromMicroseconds: (us) => BigInt(us).toString(),
    timestampFromNanoseconds: (ns) => (BigInt(ns) / 1000n).toString(),
    dateFromDays: (d) => (BigInt(d) * 86400000000n).toString(),
  }
  // hyparquet decodes snappy itself; gzip (and others) come from hyparquet-compressors
  const { compressors } = await import('hyparquet-compressors')
  const rows = await parquetReadObjects({ file: ab, parsers: micros, compressors })
  const names = meta.schema.slice(1).map(s => s.name)
  const columns = {}
  for (const n of names) columns[n] = rows.map(r => text(r[n]))
  const schema = meta.schema.slice(1).map(s => ({ name: s.name, type: s.type, repetition: s.repetition_type, converted: s.converted_type ?? null, logical: s.logical_type?.type ?? null }))
  const rowGroups = meta.row_groups.map(rg => ({
    num_rows: Number(rg.num_rows),
    columns: rg.columns.map(c => ({
      codec: c.meta_data.codec,
      null_count: c.meta_data.statistics?.null_count === undefined ? null : Number(c.meta_data.statistics.null_count),
      min: text(c.meta_data.statistics?.min_value instanceof Date ? c.meta_data.statistics.min_value.getTime() : c.meta_data.statistics?.min_value),
      max: text(c.meta_data.statistics?.max_value instanceof Date ? c.meta_data.statistics.max_value.getTime() : c.meta_data.statistics?.max_value),
    })),
  }))
  const kv = {}
  for (const e of meta.key_value_metadata ?? []) kv[e.key] = e.value
  return { reader: 'hyparquet', num_rows: Number(meta.num_rows), created_by: meta.created_by ?? null, key_value: kv, schema, row_groups: rowGroups, columns }
}

async function duck() {
  const { DuckDBInstance } = await import('@duckdb/node-api')
  const inst = await DuckDBInstance.create(':memory:')
  return await inst.connect()
}

function sqlString(s) { return "'" + s.replaceAll("'", "''") + "'" }
function ident(s) { return '"' + s.replaceAll('"', '""') + '"' }

async function readDuckdb(file, con) {
  con ??= await duck()
  const src = `read_parquet(${sqlString(file)})`
  const desc = (await con.runAndReadAll(`DESCRIBE SELECT * FROM ${src}`)).getRowObjectsJson()
  const exprs = desc.map(d => {
    const c = ident(d.column_name)
    const t = String(d.column_type)
    if (t.startsWith('TIMESTAMP')) return `epoch_us(${c})::VARCHAR AS ${c}`
    if (t === 'DATE') return `(epoch_us(${c}::TIMESTAMP))::VARCHAR AS ${c}`
    if (t === 'DOUBLE' || t === 'FLOAT') return `CASE WHEN isnan(${c}) THEN 'NaN' WHEN ${c} = 'infinity'::DOUBLE THEN 'Infinity' WHEN ${c} = '-infinity'::DOUBLE THEN '-Infinity' ELSE ${c}::VARCHAR END AS ${c}`
    return `${c}::VARCHAR AS ${c}`
  })
  const reader = await con.runAndReadAll(`SELECT ${exprs.join(', ')} FROM ${src}`)
  const cols = reader.getColumnsJson()
  const columns = {}
  desc.forEach((d, i) => { columns[d.column_name] = cols[i].map(v => v === null ? null : String(v)) })
  const meta = (await con.runAndReadAll(`SELECT row_group_id, path_in_schema, compression, stats_null_count, stats_min_value, stats_max_value FROM parquet_metadata(${sqlString(file)}) ORDER BY row_group_id, column_id`)).getRowObjectsJson()
  const kv = (await con.runAndReadAll(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata(${sqlString(file)})`)).getRowObjectsJson()
  const fm = (await con.runAndReadAll(`SELECT created_by, num_rows, num_row_groups FROM parquet_file_metadata(${sqlString(file)})`)).getRowObjectsJson()[0]
  return {
    reader: 'duckdb', num_rows: Number(fm.num_rows), num_row_groups: Number(fm.num_row_groups), created_by: fm.created_by,
    key_value: Object.fromEntries(kv.map(e => [e.k, e.v])),
    schema: desc.map(d => ({ name: d.column_name, type: d.column_type })),
    chunk_stats: meta, columns,
  }
}

async function readParquetWasm(file) {
  const pw = await import('parquet-wasm/node')
  const arrow = await import('apache-arrow')
  const wasmTable = pw.readParquet(new Uint8Array(fs.readFileSync(file)))
  const t = arrow.tableFromIPC(wasmTable.intoIPCStream())
  const columns = {}
  const schema = []
  for (const f of t.schema.fields) {
    const v = t.getChild(f.name)
    schema.push({ name: f.name, type: String(f.type) })
    const out = []
    const ts = arrow.DataType.isTimestamp(f.type)
    // raw integers of the column's unit → microseconds (exact, no float on the way)
    const perMicro = ts ? [1000000n, 1000n, 1n, 0n][f.type.unit] : 0n
    for (const d of v.data) {
      for (let i = 0; i < d.length; i++) {
        if (d.nullCount > 0 && !d.getValid(i)) { out.push(null); continue }
        if (ts) {
          const raw = BigInt(d.values[d.offset + i])
          out.push((f.type.unit === 3 ? raw / 1000n : raw * perMicro).toString())
        } else {
          const x = d.type.typeId === arrow.Type.Dictionary ? d.dictionary.get(d.values[d.offset + i]) : arrow.makeVector(d).get(i)
          out.push(text(x))
        }
      }
    }
    columns[f.name] = out
  }
  return { reader: 'parquet-wasm', num_rows: t.numRows, key_value: Object.fromEntries(t.schema.metadata), schema, columns }
}

async function duckdbCount(file, preds) {
  const con = await duck()
  const counts = []
  for (const p of preds) {
    const r = (await con.runAndReadAll(`SELECT count(*) AS n FROM read_parquet(${sqlString(file)}) WHERE ${p}`)).getRowObjectsJson()
    counts.push(Number(r[0].n))
  }
  return { counts }
}

async function duckdbSummary(file) {
  const con = await duck()
  const src = `read_parquet(${sqlString(file)})`
  const desc = (await con.runAndReadAll(`DESCRIBE SELECT * FROM ${src}`)).getRowObjectsJson()
  const out = {}
  for (const d of desc) {
    const c = ident(d.column_name)
    const t = String(d.column_type)
    const v = t.startsWith('TIMESTAMP') ? `epoch_us(${c})` : t === 'BOOLEAN' ? `${c}::INTEGER` : c
    const sum = t === 'DOUBLE' ? `sum(${v}) FILTER (WHERE isfinite(${v}))` : t === 'VARCHAR' ? `sum(strlen(${c}))` : `sum(${v}::HUGEINT)`
    const r = (await con.runAndReadAll(`SELECT count(${c})::VARCHAR AS n, min(${v})::VARCHAR AS lo, max(${v})::VARCHAR AS hi, (${sum})::VARCHAR AS s FROM ${src}`)).getRowObjectsJson()[0]
    out[d.column_name] = { type: t, count: r.n, min: r.lo, max: r.hi, sum: r.s }
  }
  return out
}

const DUCK_TABLE = `
SELECT * FROM (VALUES
  (1, 'control', 10::INTEGER, 10000000000::BIGINT, 1.5::DOUBLE, true, TIMESTAMP '2020-01-02 03:04:05.123456'),
  (2, 'patient', NULL, (-5)::BIGINT, (-2.25)::DOUBLE, false, NULL),
  (3, NULL, (-7)::INTEGER, NULL, NULL, NULL, TIMESTAMP '1969-12-31 23:59:59.999999'),
  (4, 'patiënt ☃', 2147483647::INTEGER, 9223372036854775807::BIGINT, 1e-300::DOUBLE, true, TIMESTAMP '2024-02-29 00:00:00'),
  (5, 'control', (-2147483648)::INTEGER, (-9223372036854775807)::BIGINT, 'NaN'::DOUBLE, false, TIMESTAMP '2000-01-01 00:00:00'),
  (6, '', 0::INTEGER, 0::BIGINT, 'inf'::DOUBLE, NULL, TIMESTAMP '2000-01-01 00:00:00')
) t(id, grp, i32, i64, dbl, flag, ts)
UNION ALL
SELECT 100 + i, CASE WHEN i % 3 = 0 THEN 'control' WHEN i % 3 = 1 THEN 'patient' ELSE NULL END, (i * 7)::INTEGER,
       (i::BIGINT * 1000000007), CASE WHEN i % 5 = 0 THEN NULL ELSE i / 7.0 END::DOUBLE, i % 2 = 0,
       TIMESTAMP '2021-06-01 00:00:00' + to_microseconds(i * 1000003)
FROM range(3000) r(i)`

async function writeDuckdb(dir) {
  const con = await duck()
  fs.mkdirSync(dir, { recursive: true })
  await con.run(`CREATE TABLE t AS ${DUCK_TABLE} ORDER BY id`)
  const out = {}
  for (const [name, opts] of [
    ['snappy', 'COMPRESSION snappy'], ['gzip', 'COMPRESSION gzip'], ['uncompressed', 'COMPRESSION uncompressed'],
    ['zstd', 'COMPRESSION zstd'], ['v2', 'COMPRESSION snappy, PARQUET_VERSION v2'], ['rowgroups', 'COMPRESSION snappy, ROW_GROUP_SIZE 2048'],
  ]) {
    const f = path.join(dir, `duckdb_${name}.parquet`)
    if (name === 'rowgroups') await con.run('SET threads = 1') // DuckDB honours ROW_GROUP_SIZE per thread
    await con.run(`COPY t TO ${sqlString(f)} (FORMAT parquet, ${opts})`)
    out[name] = f
  }
  const expected = await readDuckdb(out.uncompressed, con)
  return { files: out, expected: expected.columns, schema: expected.schema }
}

async function writeHyparquet(dir) {
  const { parquetWriteFile } = await import('hyparquet-writer')
  fs.mkdirSync(dir, { recursive: true })
  const n = 2500
  const id = [], grp = [], i32 = [], i64 = [], dbl = [], flag = [], ts = []
  for (let i = 0; i < n; i++) {
    id.push(i)
    grp.push(i % 4 === 3 ? null : ['control', 'patient', 'patiënt ☃'][i % 3])
    i32.push(i % 7 === 0 ? null : (i * 37) % 1000 - 500)
    i64.push(i % 11 === 0 ? null : BigInt(i) * 123456789012n - 5000000000000n)
    dbl.push(i % 13 === 0 ? null : i / 3 - 100)
    flag.push(i % 6 === 0 ? null : i % 2 === 0)
    ts.push(i % 9 === 0 ? null : new Date(Date.UTC(2020, 0, 1) + i * 3600123))
  }
  const columnData = [
    { name: 'id', data: id, type: 'INT32' },
    { name: 'grp', data: grp, type: 'STRING' },
    { name: 'i32', data: i32, type: 'INT32' },
    { name: 'i64', data: i64, type: 'INT64' },
    { name: 'dbl', data: dbl, type: 'DOUBLE' },
    { name: 'flag', data: flag, type: 'BOOLEAN' },
    { name: 'ts', data: ts, type: 'TIMESTAMP' },
  ]
  const files = {}
  for (const [name, codec] of [['snappy', 'SNAPPY'], ['uncompressed', 'UNCOMPRESSED']]) {
    const f = path.join(dir, `hyparquet_${name}.parquet`)
    parquetWriteFile({ filename: f, columnData, codec, rowGroupSize: 1000, kvMetadata: [{ key: 'made_by', value: 'hyparquet-writer' }] })
    files[name] = f
  }
  const expected = {}
  for (const c of columnData) expected[c.name] = c.data.map(v => v instanceof Date ? (BigInt(v.getTime()) * 1000n).toString() : text(v))
  return { files, expected }
}

async function benchDuckdb(file, out, codec = 'snappy') {
  const con = await duck()
  const t0 = performance.now()
  const r = await con.runAndReadAll(`SELECT * FROM read_parquet(${sqlString(file)})`)
  const rows = r.getColumnsJson()[0].length
  const t1 = performance.now()
  await con.run(`CREATE TABLE b AS SELECT * FROM read_parquet(${sqlString(file)})`)
  const t2 = performance.now()
  await con.run(`COPY b TO ${sqlString(out)} (FORMAT parquet, COMPRESSION ${codec})`)
  const t3 = performance.now()
  return { rows, read_materialize_ms: t1 - t0, read_ms: t2 - t1, write_ms: t3 - t2 }
}

let result
switch (cmd) {
  case 'read-hyparquet': result = await readHyparquet(a1); break
  case 'read-duckdb': result = await readDuckdb(a1); break
  case 'read-both': result = { hyparquet: await readHyparquet(a1), duckdb: await readDuckdb(a1) }; break
  case 'read-parquet-wasm': result = await readParquetWasm(a1); break
  case 'read-all': {
    // one or more files: one node start for all of them
    const files = process.argv.slice(3)
    const one = async f => ({ hyparquet: await readHyparquet(f), duckdb: await readDuckdb(f), parquet_wasm: await readParquetWasm(f) })
    result = files.length === 1 ? await one(files[0]) : { files: await Promise.all(files.map(one)) }
    break
  }
  case 'duckdb-count': result = await duckdbCount(a1, process.argv.slice(4)); break
  case 'duckdb-summary': result = await duckdbSummary(a1); break
  case 'write-duckdb': result = await writeDuckdb(a1); break
  case 'write-hyparquet': result = await writeHyparquet(a1); break
  case 'bench-duckdb': result = await benchDuckdb(a1, a2, process.argv[5]); break
  default: console.error('unknown command ' + cmd); process.exit(2)
}
process.stdout.write(JSON.stringify(result, (k, v) => typeof v === 'bigint' ? v.toString() : v))
