/**
 * The reference fleet of the tests, the bench and the demo: a primary Controller, two more
 * Controllers, six gateways in three sites, two portals and an HA connector pair sharing a
 * virtual IP; every appliance prepared with the same image.
 */
import type { FakeApplianceSpec } from "./fake-controller.ts";

export const CONTROLLERS = ["ctrl-1", "ctrl-2", "ctrl-3"] as const;
export const GATEWAYS_BY_SITE = {
  "Site A": ["gw-a1", "gw-a2"],
  "Site B": ["gw-b1", "gw-b2"],
  "Site C": ["gw-c1", "gw-c2"],
} as const;
export const GATEWAYS = Object.values(GATEWAYS_BY_SITE).flat();
export const PORTALS = ["portal-1", "portal-2"] as const;
export const HA_CONNECTORS = ["conn-1", "conn-2"] as const;
export const ALL_NAMES = [...CONTROLLERS, ...GATEWAYS, ...PORTALS, ...HA_CONNECTORS];

export type SpecOverrides = Partial<Record<string, Partial<FakeApplianceSpec>>>;

/** The fleet; `overrides` change single appliances (initial state, durations, failures). */
export function standardFleet(overrides: SpecOverrides = {}): FakeApplianceSpec[] {
  const specs: FakeApplianceSpec[] = [
    { name: "ctrl-1", roles: ["controller"], primary: true, site: "Default" },
    { name: "ctrl-2", roles: ["controller"], site: "Default", adminHostname: "ctrl-2.example.test" },
    { name: "ctrl-3", roles: ["controller"], site: "Default", adminHostname: "ctrl-3.example.test" },
  ];
  for (const [site, names] of Object.entries(GATEWAYS_BY_SITE)) {
    for (const name of names) specs.push({ name, roles: ["gateway"], site });
  }
  for (const name of PORTALS) specs.push({ name, roles: ["portal"], site: "Site A" });
  for (const name of HA_CONNECTORS) specs.push({ name, roles: ["connector"], site: "Site B", virtualIp: "10.20.0.100" });
  return specs.map((s) => ({ ...s, ...overrides[s.name] }));
}

/**
 * Durations that differ from appliance to appliance (deterministically), so that the longest
 * appliance of a stage matters: base × (0.8 … 1.2).
 */
export function variedDurations(base: { installMs: number; rebootMs: number; readyLagMs: number }): SpecOverrides {
  const out: SpecOverrides = {};
  ALL_NAMES.forEach((name, i) => {
    const f = 0.8 + ((i * 7) % 9) / 20;
    out[name] = {
      installMs: Math.round(base.installMs * f),
      rebootMs: Math.round(base.rebootMs * f),
      readyLagMs: Math.round(base.readyLagMs * f),
    };
  });
  return out;
}
