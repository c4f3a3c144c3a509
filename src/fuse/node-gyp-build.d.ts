/** Types of node-gyp-build (it ships none): the loader of a package's native build. */
declare module "node-gyp-build" {
  interface NodeGypBuild {
    /** requires the build for this platform found under `dir` */
    (dir: string): unknown;
    /** the path of that build: build/Release, build/Debug, then prebuilds/<platform>-<arch>/ */
    path(dir: string): string;
  }
  const load: NodeGypBuild;
  export default load;
}
