import { json, microBatch } from 'driverless/runtime';
import { Order } from './retail/events';
import { forEachLimited, recordPurchase } from './retail/tables';

/** Orders → recommendations: bought products are marked so they are no longer recommended. */
export const handler = microBatch({
  decode: json(Order),
  jobs: {
    recommendations: async ({ records }, { signal }) => {
      const purchases = records.flatMap(({ data }) =>
        data.items.map((item) => ({
          userId: data.userId,
          productId: item.productId,
          orderId: data.orderId,
        })),
      );
      await forEachLimited(purchases, 16, (p) =>
        recordPurchase(p.userId, p.productId, p.orderId, signal),
      );
    },
  },
});
