/** One record of the equivalence tests: its partition key and data (a string is raw text). */
export type RetailInput = { key: string; data: unknown };

const BASE_TS = Date.UTC(2026, 0, 15, 9, 58, 20);
const pad = (n: number) => String(n).padStart(3, '0');

/**
 * Deterministic inputs of the example app: views with a skewed choice of users and products,
 * orders, one poison view. The equivalence tests stream them and process them again (a file, a
 * backfill) and compare the tables.
 */
export function retailInputs(): { views: RetailInput[]; orders: RetailInput[] } {
  const views: RetailInput[] = Array.from({ length: 150 }, (_, n) => {
    const userId = `u-${pad((n * 7) % 23)}`;
    return {
      key: userId,
      data: { userId, productId: `p-${pad((n * 11) % 17)}`, ts: BASE_TS + ((n * 7919) % 300_000) },
    };
  });
  views.splice(40, 0, { key: 'u-001', data: '{"userId":' });
  const orders = Array.from({ length: 12 }, (_, n) => {
    const userId = `u-${pad((n * 5) % 23)}`;
    return {
      key: userId,
      data: {
        orderId: `o-${pad(n)}`,
        userId,
        items: [{ productId: `p-${pad((n * 3) % 17)}`, quantity: 1 }],
        ts: BASE_TS + n * 10_000,
      },
    };
  });
  return { views, orders };
}
