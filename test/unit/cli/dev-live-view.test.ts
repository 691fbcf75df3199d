import { AppActivity } from '../../../cli/dev/app-activity';
import {
  renderLiveView,
  renderSummary,
  type SessionHeader,
  STOP_HINT,
} from '../../../cli/dev/live-view';
import type { EsmEvent, EventSourceMappingConfig, LocalApp } from '../../../emulator/index';

const MAPPING = {
  uuid: 'm-1',
  functionName: 'App-Orders',
  streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/orders',
  tumblingWindowSeconds: 0,
} as EventSourceMappingConfig;

const APP = {
  streams: [{ name: 'orders' }],
  functions: [{ name: 'App-Orders', environment: { DRIVERLESS_SOURCE: 'orders' } }],
  mappings: [MAPPING],
} as unknown as LocalApp;

const HEADER: SessionHeader = {
  command: 'driverless dev',
  app: 'shop',
  stacks: ['ShopStack'],
  endpoints: { kinesis: 'http://127.0.0.1:1' },
  stateFile: '.driverless/local.json',
  watching: 'functions/**',
};

const T0 = Date.UTC(2026, 0, 1);

function checkpointed(count: number): EsmEvent {
  return {
    type: 'recordsCheckpointed',
    shardId: 'shardId-000000000000',
    count,
    firstSequenceNumber: '1',
    lastSequenceNumber: String(count),
    sequenceNumbers: Array.from({ length: count }, (_, i) => String(i + 1)),
    arrivalTimestampsMs: Array.from({ length: count }, () => T0),
  };
}

describe('the live view', () => {
  it('counts records put by anyone on the stream in in/s and the totals', () => {
    // Given
    const activity = new AppActivity(APP, false, T0);

    // When: 30 records put in the last 5 seconds, by a client other than a demo producer
    activity.onPut(
      Array.from({ length: 30 }, (_, i) => ({
        stream: 'orders',
        shardId: 's',
        sequenceNumber: `${i}`,
      })),
      T0 + 9_000,
    );
    const screen = renderLiveView(HEADER, activity, T0 + 10_000);

    // Then
    expect(screen).toContain('Totals: 30 records put');
    expect(screen).toMatch(/^orders +– +6\.0 /m);
  });

  it('keeps the header, elapsed time and the stop hint on every frame', () => {
    // Given
    const activity = new AppActivity(APP, false, T0);
    activity.onMappingEvent(MAPPING, checkpointed(5), T0 + 1000);

    // When
    const screen = renderLiveView(HEADER, activity, T0 + 65_000);

    // Then
    const lines = screen.trimEnd().split('\n');
    expect(lines[0]).toBe('driverless dev · shop · running 01:05 · watching for changes');
    expect(lines[lines.length - 1]).toBe(STOP_HINT);
  });

  it('shows the version the last batch ran and the one published after it', () => {
    // Given
    const activity = new AppActivity(APP, false, T0);
    activity.onMappingEvent(MAPPING, {
      type: 'batchResult',
      shardId: 's',
      outcome: 'ok',
      durationMs: 5,
      records: 5,
      executedVersion: '1',
    });

    // When
    activity.publishedVersions.set('App-Orders', '2');

    // Then
    expect(renderLiveView(HEADER, activity, T0)).toMatch(/^orders +v1 → v2 /m);
  });

  it('shows a window source with its windows closed and the records of the open window', () => {
    // Given
    const windowed = { ...MAPPING, tumblingWindowSeconds: 60 };
    const activity = new AppActivity({ ...APP, mappings: [windowed] } as LocalApp, false, T0);
    const batch = (records: number): EsmEvent => ({
      type: 'batchResult',
      shardId: 's',
      outcome: 'ok',
      durationMs: 1,
      records,
      executedVersion: '1',
    });

    // When
    activity.onMappingEvent(windowed, batch(10));
    activity.onMappingEvent(windowed, {
      type: 'windowFinalInvoked',
      shardId: 's',
      window: { start: 'a', end: 'b' },
      terminatedEarly: false,
      ok: true,
      durationMs: 1,
    });
    activity.onMappingEvent(windowed, batch(7));

    // Then
    expect(renderLiveView(HEADER, activity, T0)).toContain(
      'window orders (60 s): 1 windows closed · 7 records in the open window',
    );
  });

  it('prints a summary of what each source did, for the exit', () => {
    // Given
    const activity = new AppActivity(APP, false, T0);
    activity.onMappingEvent(MAPPING, checkpointed(12), T0 + 1000);

    // When
    const summary = renderSummary(HEADER, activity, T0 + 3_000);

    // Then
    expect(summary.split('\n').slice(0, 1)).toStrictEqual([
      'driverless dev ran 00:03: 0 records put',
    ]);
    expect(summary).toMatch(/^orders +orders +12 +0 +0 +0 +0$/m);
  });
});

describe('resources added while the session runs', () => {
  it('shows a row for a mapping added to the running app, with its records', () => {
    // Given: a session on APP, then a source added on a new stream
    const activity = new AppActivity(APP, false, T0);
    const clicks = {
      uuid: 'm-2',
      functionName: 'App-Clicks',
      streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/clicks',
      tumblingWindowSeconds: 0,
    } as EventSourceMappingConfig;

    // When
    activity.addApp({
      streams: [{ name: 'clicks' }],
      functions: [{ name: 'App-Clicks', environment: { DRIVERLESS_SOURCE: 'clicks' } }],
      mappings: [clicks],
    } as unknown as LocalApp);
    activity.onMappingEvent(clicks, checkpointed(7), T0 + 1000);
    const screen = renderLiveView(HEADER, activity, T0 + 2000);

    // Then
    expect([...activity.mappings.values()].map((row) => [row.label, row.stream])).toStrictEqual([
      ['orders', 'orders'],
      ['clicks', 'clicks'],
    ]);
    expect(screen).toMatch(/^clicks +– +0 +1\.4 +7 /m);
  });
});
