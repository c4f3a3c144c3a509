/**
 * The xattrs a mount may declare absent from every file, so the binding answers a getxattr
 * of them (ENODATA) without a round trip to the JS thread: the kernel asks for
 * `security.capability` before every write (to drop file capabilities), and `ls -l` asks
 * every entry for its SELinux label and ACLs. Most stores hold none of them; a store that
 * holds one keeps it answered by its handlers. Keep in sync with native/ops.c.
 */

export const ABSENT_XATTR_CANDIDATES = [
  "security.capability",
  "security.selinux",
  "system.posix_acl_access",
  "system.posix_acl_default",
] as const;

/** The candidates no file has, by `anyNamed` (a query of the store's xattrs). */
export function absentXattrs(anyNamed: (name: Buffer) => boolean): string[] {
  return ABSENT_XATTR_CANDIDATES.filter((n) => !anyNamed(Buffer.from(n)));
}
