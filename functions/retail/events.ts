import { z } from 'zod';

/** A shopper looked at a product page. `ts` is epoch milliseconds. */
export const ProductView = z.object({
  userId: z.string().min(1),
  productId: z.string().min(1),
  ts: z.number().int().nonnegative(),
});
export type ProductView = z.infer<typeof ProductView>;

/** A shopper bought products. */
export const Order = z.object({
  orderId: z.string().min(1),
  userId: z.string().min(1),
  items: z
    .array(z.object({ productId: z.string().min(1), quantity: z.number().int().positive() }))
    .min(1),
  ts: z.number().int().nonnegative(),
});
export type Order = z.infer<typeof Order>;

/** The minute a timestamp falls in, `YYYY-MM-DDTHH:MM`, the Popularity table's sort key. */
export function minuteOf(ts: number): string {
  return new Date(ts).toISOString().slice(0, 16);
}
