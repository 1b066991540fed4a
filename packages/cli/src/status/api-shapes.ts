import { z } from 'zod';

/**
 * The parts of the operator API's answers (docs: the HTTP API of `hafence serve --http`)
 * that `hafence status` reads. Loose objects: fields the server adds later pass through;
 * an answer without these is a protocol error, not a crash.
 */
const time = z.number().finite();

/** `GET /api/v1/server`. */
export const serverInfoShape = z.looseObject({
  msId: z.string(),
  observeOnly: z.boolean(),
  version: z.string(),
  startedAt: time,
  now: time,
});

const waiting = z.looseObject({ for: z.string(), at: time });

/** One `ResourceDetail` of `GET /api/v1/resources`. */
export const resourceShape = z.looseObject({
  ref: z.looseObject({ type: z.string(), id: z.string() }),
  partition: z.string(),
  state: z.string(),
  since: time,
  power: z.string().optional(),
  observeOnly: z.boolean(),
  waiting: waiting.optional(),
  timers: z.record(z.string(), z.unknown()),
  episode: z.record(z.string(), z.unknown()).optional(),
  maintenance: z.looseObject({}),
  released: z.boolean(),
  owned: z.boolean(),
});

/** One `PartitionDetail` of `GET /api/v1/partitions`. */
export const partitionShape = z.looseObject({
  id: z.string(),
  kind: z.string(),
  parent: z.string().optional(),
  enabled: z.boolean(),
  haEnabled: z.boolean(),
  state: z.string(),
  since: time,
  reason: z.string(),
  observeOnly: z.boolean(),
  members: z.number(),
});

/** `GET /api/v1/partitions`. */
export const partitionsShape = z.looseObject({
  partitions: z.array(partitionShape),
  fenceBudgets: z.array(
    z.looseObject({
      scope: z.string(),
      limit: z.number(),
      used: z.number(),
      windowMs: z.number(),
      halted: z.boolean(),
    }),
  ),
});

/** `GET /api/v1/resources`. */
export const resourcesShape = z.looseObject({ resources: z.array(resourceShape) });

/** `GET /api/v1/resources/:id`: the detail with its recent transitions and releases. */
export const resourceDetailShape = resourceShape.extend({
  transitions: z.array(z.looseObject({ t: time, from: z.string(), to: z.string(), reason: z.string().optional() })),
  releases: z.array(z.looseObject({ t: time, proof: z.string() })),
});

/** What `GET /api/v1/server` says. */
export type ServerInfo = z.infer<typeof serverInfoShape>;
/** One resource of the list. */
export type ResourceRow = z.infer<typeof resourceShape>;
/** The partitions answer. */
export type PartitionsAnswer = z.infer<typeof partitionsShape>;
/** One resource's detail answer. */
export type ResourceDetailAnswer = z.infer<typeof resourceDetailShape>;
