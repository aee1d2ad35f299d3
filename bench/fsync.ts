// Row 1: the raw fsync rate of the disk the databases live on. Appends 100 bytes to a file and
// fsyncs it, over and over: one durable write per fsync is the ceiling for any store that syncs
// once per request, and the reference group commit is measured against.
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { benchTempDir, percentile, removeDir } from './setup.ts';
import type { Row } from './table.ts';

export async function benchFsync(opts: { seconds: number; baseDir?: string | undefined }): Promise<Row[]> {
  const dir = benchTempDir(opts.baseDir, 'fsync');
  const fd = openSync(join(dir, 'append.log'), 'a');
  const record = Buffer.alloc(100, 'x');
  record[99] = 0x0a;
  const latencies: number[] = [];
  const start = performance.now();
  const deadline = start + opts.seconds * 1000;
  try {
    for (let now = start; now < deadline;) {
      writeSync(fd, record);
      fsyncSync(fd);
      const after = performance.now();
      latencies.push(after - now);
      now = after;
    }
  } finally {
    closeSync(fd);
    removeDir(dir);
  }
  const seconds = (performance.now() - start) / 1000;
  const perSecond = latencies.length / seconds;
  return [
    {
      id: 'fsync',
      group: 1,
      name: 'raw fsync (append 100 B + fsync)',
      setting: `1 writer, ${seconds.toFixed(1)} s`,
      figure: perSecond,
      unit: 'fsyncs/s',
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      against: 'ceiling for one fsync per request; DESIGN.md measured ~5,000/s',
      samples: latencies.length,
    },
  ];
}
