import { Role } from '../config/app.config';
import { pgBossOptions } from './job-queue.service';

describe('pgBossOptions', () => {
  it('supervises the queues (maintenance) only in processes that run workers', () => {
    expect(pgBossOptions('postgres://x', Role.All).supervise).toBe(true);
    expect(pgBossOptions('postgres://x', Role.Worker).supervise).toBe(true);
    expect(pgBossOptions('postgres://x', Role.Api).supervise).toBe(false);
  });

  it('never schedules cron jobs and names the connection after the role', () => {
    const options = pgBossOptions('postgres://x', Role.Api);
    expect(options).toMatchObject({ connectionString: 'postgres://x', schedule: false, application_name: 'messaging-service-queue-api' });
  });
});
