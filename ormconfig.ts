/**
 * DataSource for the TypeORM CLI (`npm run migration:run`, `migration:generate`), built
 * by the same function the app uses. With DATABASE_URL unset it starts (or adopts) the
 * embedded PostgreSQL under DATA_DIR, as `npm start` does.
 */
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadAppConfig } from './src/config/app.config';
import { buildDataSourceOptions } from './src/database/data-source-options';
import { EmbeddedDatabase, embeddedDatabaseOptions } from './src/database/embedded-database';

async function createDataSource(): Promise<DataSource> {
  const config = loadAppConfig(process.env);
  if (config.databaseUrl) return new DataSource(buildDataSourceOptions(config.databaseUrl));
  const embedded = await EmbeddedDatabase.start(embeddedDatabaseOptions(config));
  process.once('exit', () => void embedded.stop());
  return new DataSource(buildDataSourceOptions(embedded.url));
}

export default createDataSource();
