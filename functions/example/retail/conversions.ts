import { streamJoin } from 'driverless/runtime';
import { conversionKey, type Order, type ProductView } from './events';
import { countConversion } from './tables';

/**
 * Views followed by an order of the same product by the same user within 30 minutes, declared once
 * and run by both sources: `conversions.left` in the productViews function, `conversions.right` in
 * the orders function. Whichever arrives first waits in the pipeline's state table for the other.
 * A view that no order follows comes out alone (left outer) once the watermark passes its bound.
 */
export const conversions = streamJoin<ProductView, Order>({
  name: 'conversions',
  left: {
    source: 'productViews',
    key: (view) => conversionKey(view.data.userId, view.data.productId),
    eventTime: (view) => view.data.ts,
  },
  right: {
    source: 'orders',
    // One key per ordered product: an order of three products can convert three views.
    key: (order) =>
      order.data.items.map((item) => conversionKey(order.data.userId, item.productId)),
    eventTime: (order) => order.data.ts,
  },
  within: '30m',
  kind: 'leftOuter',
  watermark: { allowedLateness: '2m', idleShardAfter: '1m' },
  // `id` is the same on every attempt at emitting a result: the count moves once per result.
  emit: ({ id, left, right }) => countConversion(left.data.productId, right !== undefined, id),
});
