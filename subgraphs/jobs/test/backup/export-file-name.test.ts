import { describe, expect, it } from 'vitest';
import { exportFileName } from '../../src/backup/handlers.ts';

describe('export file names', () => {
  it('are <source>-<snapshot time>.<ext>', () => {
    expect(exportFileName('Payments', '2026-12-02T09:51:32.123Z', 'snapshot-abc.tar.zst')).toBe('Payments-2026-12-02T09-51-32Z.tar.zst');
    expect(exportFileName('CRM', '2026-01-05T00:00:00Z', 'snapshot-abc.zip')).toBe('CRM-2026-01-05T00-00-00Z.zip');
  });

  it('keep only characters every file system and header accepts', () => {
    expect(exportFileName('Stripe / production: "EU"', '2026-12-02T09:51:32Z', 'x.zip')).toBe('Stripe-production-EU-2026-12-02T09-51-32Z.zip');
    expect(exportFileName('Café ünïcödé', '2026-12-02T09:51:32Z', 'x.zip')).toBe('Cafe-unicode-2026-12-02T09-51-32Z.zip');
    expect(exportFileName('../../etc', '2026-12-02T09:51:32Z', 'x.zip')).toBe('etc-2026-12-02T09-51-32Z.zip');
  });

  it('fall back to "snapshot" when the source has no usable name', () => {
    expect(exportFileName(undefined, '2026-12-02T09:51:32Z', 'x.tar.zst')).toBe('snapshot-2026-12-02T09-51-32Z.tar.zst');
    expect(exportFileName('日本', '2026-12-02T09:51:32Z', 'x.zip')).toBe('snapshot-2026-12-02T09-51-32Z.zip');
  });
});
