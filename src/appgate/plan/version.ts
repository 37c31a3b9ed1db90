/**
 * Appliance versions as Appgate writes them: "6.2.1", "6.2.1-29983" (build number), or inside an
 * upgrade image name such as "appgate-6.2.1-29983-release.img.zip".
 */
export interface ApplianceVersion {
  major: number;
  minor: number;
  patch: number;
  /** Build number when the text carries one. */
  build?: number;
}

const VERSION_RE = /(?:^|[^\d.])(\d+)\.(\d+)(?:\.(\d+))?(?:[-+](\d+))?(?=$|[^\d])/;

/** Parses the first version found in `text`, or undefined when there is none. */
export function parseVersion(text: string | undefined): ApplianceVersion | undefined {
  if (text === undefined) return undefined;
  const m = VERSION_RE.exec(text);
  if (!m) return undefined;
  const v: ApplianceVersion = { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0) };
  if (m[4] !== undefined) v.build = Number(m[4]);
  return v;
}

/** The version an upgrade image installs, from its file name (or undefined when it names none). */
export function versionFromImageName(details: string | undefined): ApplianceVersion | undefined {
  return parseVersion(details);
}

export function formatVersion(v: ApplianceVersion | undefined): string {
  if (v === undefined) return "";
  return `${v.major}.${v.minor}.${v.patch}${v.build !== undefined ? `-${v.build}` : ""}`;
}

/** Orders by major, minor, patch, then build when both carry one. */
export function compareVersions(a: ApplianceVersion, b: ApplianceVersion): number {
  const d = a.major - b.major || a.minor - b.minor || a.patch - b.patch;
  if (d !== 0) return Math.sign(d);
  if (a.build !== undefined && b.build !== undefined) return Math.sign(a.build - b.build);
  return 0;
}

export function sameVersion(a: ApplianceVersion | undefined, b: ApplianceVersion | undefined): boolean {
  return a !== undefined && b !== undefined && compareVersions(a, b) === 0;
}

/** A major or minor upgrade (as opposed to a patch or a rebuild). */
export function isMajorOrMinorUpgrade(current: ApplianceVersion, target: ApplianceVersion): boolean {
  return target.major !== current.major || target.minor !== current.minor;
}
