import { Injectable, PipeTransform } from '@nestjs/common';
import { NotFoundError, ValidationError } from '../errors/app-error';

/**
 * Reads a resource id from the path: digits only (else 422); ids beyond 2^53 or 0
 * cannot exist (404).
 * @returns the id as a decimal string (bigint column)
 */
@Injectable()
export class IdParamPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!/^\d+$/.test(value)) throw new ValidationError([{ field: 'id', message: 'must be a positive integer' }]);
    const id = Number(value);
    if (id < 1 || !Number.isSafeInteger(id)) throw new NotFoundError(`No resource with id ${value}`);
    return String(id);
  }
}
