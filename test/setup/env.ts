// Runs in every e2e test file before it loads: point the app at the test database and
// keep retries fast. Tests that need other settings pass them to startTestApp().
process.env.DATABASE_URL = process.env.TEST_DATABASE_URL;
process.env.NODE_ENV = 'test';
process.env.PROVIDER_BACKOFF_BASE_MS = '20';
process.env.PROVIDER_BACKOFF_MAX_MS = '200';
process.env.DELIVERY_BACKOFF_BASE_S = '0.2';
process.env.DELIVERY_BACKOFF_MAX_S = '0.2';
