// zod/mini: the same schemas and Standard Schema support, 16 KB in the bundle instead of 443 KB.
import * as z from 'zod/mini';

/** A shopper looked at a product page. `ts` is epoch milliseconds. */
export const ProductView = z.object({
  userId: z.string().check(z.minLength(1)),
  productId: z.string().check(z.minLength(1)),
  ts: z.number().check(z.int(), z.nonnegative()),
});
export type ProductView = z.infer<typeof ProductView>;

/** A shopper bought products. */
export const Order = z.object({
  orderId: z.string().check(z.minLength(1)),
  userId: z.string().check(z.minLength(1)),
  items: z
    .array(
      z.object({
        productId: z.string().check(z.minLength(1)),
        quantity: z.number().check(z.int(), z.positive()),
      }),
    )
    .check(z.minLength(1)),
  ts: z.number().check(z.int(), z.nonnegative()),
});
export type Order = z.infer<typeof Order>;

/** The minute a timestamp falls in, `YYYY-MM-DDTHH:MM`, the Popularity table's sort key. */
export function minuteOf(ts: number): string {
  return new Date(ts).toISOString().slice(0, 16);
}

/** The key a view and an order of the same product by the same user share in the conversions join. */
export function conversionKey(userId: string, productId: string): string {
  return `${userId}|${productId}`;
}
