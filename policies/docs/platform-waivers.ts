/**
 * Every waiver the platform's own rendered output carries, with its reason. The docs index lists
 * them; test/unit/policies/platform-output.test.ts fails if the output carries a waiver not listed
 * here (or lists one it no longer needs).
 */
export interface PlatformWaiver {
  readonly rule: string;
  /** `<Kind> <namespace>/<name>` pattern, as the component renders it. */
  readonly resource: string;
  readonly owner: string;
  readonly expires: string;
  readonly reason: string;
}

export const PLATFORM_WAIVERS: readonly PlatformWaiver[] = [];
