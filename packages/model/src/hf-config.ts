/**
 * What a Hugging Face `config.json` says about a model: `model_type` (the family),
 * `architectures[0]`, `torch_dtype` (or the newer `dtype`) and
 * `quantization_config.quant_method`.
 */
export interface HfConfigFacts {
  family?: string | undefined;
  architecture?: string | undefined;
  precision?: string | undefined;
  quantization?: string | undefined;
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;

/** Reads the facts from a config.json's text; anything that is not a JSON object gives none. */
export function readHfConfig(json: string): HfConfigFacts {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
  const config = parsed as Record<string, unknown>;
  const architectures = Array.isArray(config.architectures) ? config.architectures : [];
  const quantization = config.quantization_config as Record<string, unknown> | undefined;
  return {
    family: text(config.model_type),
    architecture: text(architectures[0]),
    precision: text(config.torch_dtype) ?? text(config.dtype),
    quantization:
      typeof quantization === 'object' && quantization !== null
        ? text(quantization.quant_method)
        : undefined,
  };
}
