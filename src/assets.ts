/**
 * Files the site reads at run time from the project's folder. This module sits one level below
 * the project's root, as do the built files in dist/, so the paths hold from the sources and from
 * the build alike.
 */
export const FONTS_DIR = new URL('../assets/fonts/', import.meta.url);
