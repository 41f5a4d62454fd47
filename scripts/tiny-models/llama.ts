import { jsonFile, type RepoFile } from './repo-files.ts';
import { decoderGraph, type DecoderSpec } from './text-decoder.ts';
import { byteLevelBpe, logitBias, tokenId } from './vocab.ts';

/** SmolLM2's chat format. */
const CHAT_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}" +
  "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

const SPECIAL_TOKENS = {
  bos_token: '<|im_start|>',
  eos_token: '<|im_end|>',
  pad_token: '<|im_end|>',
  unk_token: '<|endoftext|>'
};

/** `config.json` keys of a Llama text model (also SmolVLM's `text_config`). */
export function llamaConfig(spec: DecoderSpec) {
  return {
    model_type: 'llama',
    vocab_size: spec.vocab,
    hidden_size: spec.hidden,
    intermediate_size: spec.intermediate,
    num_hidden_layers: spec.layers,
    num_attention_heads: spec.heads,
    num_key_value_heads: spec.kvHeads,
    head_dim: spec.headDim,
    hidden_act: 'silu',
    max_position_embeddings: 8192,
    rms_norm_eps: spec.normEps,
    rope_theta: spec.ropeTheta,
    tie_word_embeddings: false
  };
}

/** A SmolLM2-style Llama causal LM: `onnx/model.onnx` with a KV cache, for text generation. */
export function tinyLlamaRepo(repo: string): RepoFile[] {
  const vocabulary = byteLevelBpe({ leading: ['<|endoftext|>', '<|im_start|>', '<|im_end|>'], added: [] });
  const bos = tokenId(vocabulary, SPECIAL_TOKENS.bos_token);
  const eos = tokenId(vocabulary, SPECIAL_TOKENS.eos_token);
  const spec: DecoderSpec = {
    style: 'llama',
    vocab: vocabulary.size,
    hidden: 64,
    layers: 2,
    heads: 4,
    kvHeads: 2,
    headDim: 16,
    intermediate: 128,
    rotaryDim: 16,
    ropeTheta: 10000,
    normEps: 1e-5
  };
  const tokenIds = { bos_token_id: bos, eos_token_id: eos, pad_token_id: eos };
  return [
    jsonFile('config.json', { architectures: ['LlamaForCausalLM'], ...llamaConfig(spec), ...tokenIds }),
    jsonFile('generation_config.json', tokenIds),
    jsonFile('special_tokens_map.json', SPECIAL_TOKENS),
    jsonFile('tokenizer.json', vocabulary.tokenizer),
    jsonFile('tokenizer_config.json', {
      tokenizer_class: 'GPT2Tokenizer',
      ...SPECIAL_TOKENS,
      add_prefix_space: false,
      clean_up_tokenization_spaces: false,
      model_max_length: 8192,
      chat_template: CHAT_TEMPLATE
    }),
    {
      path: 'onnx/model.onnx',
      build: () => decoderGraph(spec, 'input_ids', logitBias(spec.vocab, vocabulary, [eos]), repo)
    }
  ];
}
