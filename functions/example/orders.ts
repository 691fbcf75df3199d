import { json, microBatch } from 'driverless/runtime';
import { conversions } from './retail/conversions';
import { Order } from './retail/events';
import { forEachLimited, recordPurchase } from './retail/tables';

/**
 * Orders → recommendations (bought products are marked so they are no longer recommended) and
 * the orders side of the `conversions` join: each ordered product goes into the keyed state,
 * where a view of it by the same user within 30 minutes before finds it, whichever of the two
 * arrives first.
 */
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
    // The orders side of the join: emitted results are counted by whichever side finds them.
    conversions: conversions.right,
  },
});
