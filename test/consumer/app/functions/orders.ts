// A handler as a user writes it: only `driverless/runtime`, no schema library.
import { microBatch } from 'driverless/runtime';

interface Order {
  readonly orderId: string;
  readonly total: number;
}

const isOrder = (value: unknown): value is Order =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as Order).orderId === 'string' &&
  typeof (value as Order).total === 'number';

export const handler = microBatch({
  decode: (bytes) => {
    const value: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (!isOrder(value)) throw new Error('not an order');
    return value;
  },
  jobs: {
    revenue: async ({ records }) => {
      const total = records.reduce((sum, record) => sum + record.data.total, 0);
      console.log(`revenue ${total}`);
    },
  },
});
