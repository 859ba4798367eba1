import { EventEmitter } from 'events';
import { Client } from 'pg';
import { buildDataSourceOptions, keepClientErrorsHandled } from './data-source-options';
import { serviceTypeParsers } from './timestamptz-parser';

describe('buildDataSourceOptions', () => {
  it('has the pool give every new client an error listener (onConnect)', () => {
    const options = buildDataSourceOptions('postgres://u@127.0.0.1:5432/db') as { extra: { onConnect?: unknown; max: number } };
    expect(options.extra.onConnect).toBe(keepClientErrorsHandled);
    expect(options.extra.max).toBe(20);
  });

  it('gives the pool the service type parsers (fast timestamptz)', () => {
    const options = buildDataSourceOptions('postgres://u@127.0.0.1:5432/db') as { extra: { types?: unknown } };
    expect(options.extra.types).toBe(serviceTypeParsers);
  });
});

describe('keepClientErrorsHandled', () => {
  const fatal = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });

  it('keeps an error emitted on a client that nobody else listens to from crashing the process', () => {
    const client = new Client({ connectionString: 'postgres://u@127.0.0.1:5432/db' });
    expect(() => client.emit('error', fatal)).toThrow('terminating connection');
    keepClientErrorsHandled(client);
    expect(() => client.emit('error', fatal)).not.toThrow();
  });

  it('leaves the other listeners (the pool, TypeORM) to see the error as before', () => {
    const client = new EventEmitter();
    keepClientErrorsHandled(client);
    const seen: Error[] = [];
    client.on('error', (e: Error) => seen.push(e));
    client.emit('error', fatal);
    expect(seen).toEqual([fatal]);
  });
});
