// Placeholder owned by the config work: the schema DSL drivers use for their provider sections.
export interface ObjectSchema {}
