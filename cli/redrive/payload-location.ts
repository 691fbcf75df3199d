import { DEAD_LETTER_KEY_PREFIX } from '../../functions/runtime/dead-letter';
import { parseS3Url } from './s3-objects';

/**
 * The object a letter's `dataLocation` names, when redrive may read and delete it: in one of the
 * source's dead-letter buckets, under the prefix the runtime writes. A letter is data anyone able
 * to send to the queue can write, so a location elsewhere is never read or deleted with the
 * redrive's credentials; the letter is kept and reported instead.
 */
export function ownedPayload(
  location: string,
  buckets: ReadonlySet<string>,
): { bucket: string; key: string } | undefined {
  const where = parseS3Url(location);
  if (!where || !buckets.has(where.bucket) || !where.key.startsWith(DEAD_LETTER_KEY_PREFIX)) {
    return undefined;
  }
  return where;
}
