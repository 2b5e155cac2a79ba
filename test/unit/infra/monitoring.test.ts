import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { formatRequestLog } from '../../../shared/http/request-log.ts';

const DIR = fileURLToPath(new URL('../../../infra/monitoring/', import.meta.url));
const metrics = readdirSync(DIR).filter((file) => file.startsWith('allocator_'));

interface LogMetric {
  description: string;
  filter: string;
  valueExtractor?: string;
  labelExtractors?: Record<string, string>;
  metricDescriptor: { metricKind: string; valueType: string; labels?: { key: string }[] };
  bucketOptions?: unknown;
}

describe('the log-based metrics (LogMetric resources for gcloud logging metrics --config-from-file)', () => {
  it.each(metrics)('%s is a DELTA metric whose labels all have extractors, and whose distribution has a value and buckets', (file) => {
    const metric = load(readFileSync(`${DIR}/${file}`, 'utf8')) as LogMetric;
    expect(metric.description).toEqual(expect.any(String));
    expect(metric.filter).toMatch(/^resource.type="cloud_run_revision" AND /);
    expect(metric.metricDescriptor.metricKind).toBe('DELTA');
    expect(Object.keys(metric.labelExtractors ?? {}).sort()).toEqual(
      (metric.metricDescriptor.labels ?? []).map((label) => label.key).sort(),
    );
    if (metric.metricDescriptor.valueType === 'DISTRIBUTION') {
      expect(metric.valueExtractor).toMatch(/^EXTRACT\(jsonPayload\.[\w.]+\)$/);
      expect(metric.bucketOptions).toBeDefined();
    } else {
      expect(metric.valueExtractor).toBeUndefined();
    }
  });

  it('reads fields that the request log lines carry', () => {
    const line = JSON.parse(
      formatRequestLog({
        function: 'destroy',
        method: 'POST',
        url: '/sweep',
        status: 200,
        latencyMs: 12,
        message: 'destroy 200',
        details: { sweepExpired: 2, sweepOrphans: 1 },
      }),
    ) as Record<string, unknown>;
    for (const file of metrics) {
      const metric = load(readFileSync(`${DIR}/${file}`, 'utf8')) as LogMetric;
      for (const field of [...metric.filter.matchAll(/jsonPayload\.([\w.]+)/g)].map((match) => match[1] as string)) {
        expect(field.split('.')[0]).toMatch(/^(function|latencyMs|details)$/);
      }
    }
    expect(line).toMatchObject({
      function: 'destroy',
      latencyMs: 12,
      details: { sweepExpired: 2, sweepOrphans: 1 },
      httpRequest: { status: 200, requestMethod: 'POST' },
    });
  });
});
