/** A preview's config is derived where the raw YAML is read (src/config/preview.ts); the preview code imports it from here. */
export { PreviewConfig, previewConfig, previewRaw, previewRoleName, type PreviewOptions } from '../config/preview'
