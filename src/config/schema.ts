import { z } from 'zod';

/** One fleet: an MME endpoint and the prefix its models live under. Every key is optional in the file. */
export const fleetSchema = z
  .object({
    prefix: z.string().optional(),
    endpointName: z.string().optional(),
    variant: z.string().optional(),
    region: z.string().optional(),
    profile: z.string().optional(),
    endpointUrl: z.string().optional(),
    connectTimeout: z.string().optional(),
    requestTimeout: z.string().optional(),
  })
  .strict();

export const configFileSchema = z
  .object({
    $schema: z.string().optional(),
    defaultFleet: z.string().optional(),
    fleets: z.record(z.string(), fleetSchema).default({}),
  })
  .strict();

export type FleetFile = z.infer<typeof fleetSchema>;
export type ConfigFile = z.infer<typeof configFileSchema>;
