import { z } from 'zod';
import * as zm from 'zod/mini';
import { CliError } from '../../../cli/cli-error';
import { schemaGenerator } from '../../../cli/put/schema-generator';

const Sale = z.object({
  storeId: z.string().min(1),
  amountCents: z.number().int().nonnegative(),
  soldAt: z.iso.datetime(),
  channel: z.enum(['web', 'store']),
  note: z.string().optional(),
});

const generate = (schema: unknown, index: number) =>
  (schemaGenerator(schema, 'sales.ts#Sale') as (n: number) => Promise<unknown>)(index);

describe('schemaGenerator', () => {
  it("makes records the schema's own validator accepts", async () => {
    // Given / When
    const records = await Promise.all(Array.from({ length: 50 }, (_, n) => generate(Sale, n)));

    // Then
    expect(records.filter((record) => !Sale.safeParse(record).success)).toStrictEqual([]);
  });

  it('makes the same n-th record on every run', async () => {
    // Given / When
    const [first, again] = [await generate(Sale, 7), await generate(Sale, 7)];

    // Then
    expect(first).toStrictEqual(again);
  });

  it('derives records from a JSON Schema object, as z.toJSONSchema gives for zod/mini', async () => {
    // Given
    const schema = zm.toJSONSchema(zm.object({ storeId: zm.string() }));

    // When
    const record = await generate(schema, 0);

    // Then
    expect(typeof (record as { storeId?: unknown }).storeId).toBe('string');
  });

  it('fails if a validator offers no JSON Schema', () => {
    // Given a zod/mini schema: a validator without ~standard.jsonSchema
    const schema = zm.object({ storeId: zm.string() });

    // When / Then
    expect(() => schemaGenerator(schema, 'sales.ts#Sale')).toThrow(CliError);
  });

  it('fails if a value would have to match a pattern it cannot generate', async () => {
    // Given
    const schema = z.object({ sku: z.string().regex(/^[A-Z]{3}-\d{4}$/) });

    // When / Then
    await expect(generate(schema, 0)).rejects.toThrow(
      'cannot generate data.sku: strings matching ^[A-Z]{3}-\\d{4}$',
    );
  });

  it('fails if the validator rejects what the JSON Schema allowed (a refinement)', async () => {
    // Given a refinement no JSON Schema carries
    const schema = z.object({ n: z.number().int() }).refine(() => false, 'no n is right');

    // When / Then
    await expect(generate(schema, 0)).rejects.toThrow(/fails its own validator \(no n is right\)/);
  });
});
