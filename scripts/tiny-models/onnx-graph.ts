import onnxProto from 'onnx-proto';
import type { onnx as proto } from 'onnx-proto';
import { fillUniform, seedFrom } from './random.ts';

const { onnx } = onnxProto;

/** A fixed size, or a symbolic name the runtime fills in (transformers.js resolves `batch_size` itself). */
export type Dim = number | string;
export type ElementType = 'float32' | 'int64' | 'bool';
/** Every attribute these graphs use is an integer or a list of integers; float constants travel as tensors. */
export type Attributes = Record<string, number | number[]>;
/** Uniform noise of this standard deviation, or a constant fill, or exact values. */
export type WeightInit = { std: number } | 'ones' | 'zeros' | Float32Array;

/** ONNX element type codes, also what `Cast`'s `to` attribute takes. */
export const ONNX_TYPE: Record<ElementType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
  bool: onnx.TensorProto.DataType.BOOL
};

// The combination transformers.js 4.3 + onnxruntime 1.30 is known to load.
const IR_VERSION = 8;
const OPSET = 14;

function littleEndianBytes(values: Float32Array | BigInt64Array): Buffer {
  // ONNX raw_data is little-endian; typed arrays use the host order, which is little-endian on every target we run.
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}

function valueInfo(name: string, type: ElementType, dims: readonly Dim[]): proto.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ONNX_TYPE[type],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) }
      }
    }
  };
}

/**
 * Builds one ONNX graph from primitive opset-14 operators. Weights are named like their Hugging Face
 * counterparts and seeded from `seedPrefix` + name, so the same weight is bit-identical in every
 * graph that holds it (e.g. the token embedding in `embed_tokens.onnx` and in a causal LM's `model.onnx`).
 */
export class OnnxGraph {
  private readonly name: string;
  private readonly seedPrefix: string;
  private readonly nodes: proto.INodeProto[] = [];
  private readonly initializers: proto.ITensorProto[] = [];
  private readonly inputs: proto.IValueInfoProto[] = [];
  private readonly outputs: proto.IValueInfoProto[] = [];
  private readonly constants = new Map<string, string>();

  constructor(name: string, seedPrefix: string) {
    this.name = name;
    this.seedPrefix = seedPrefix;
  }

  input(name: string, type: ElementType, dims: readonly Dim[]): string {
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** Exposes `tensor` as graph output `name` (through an Identity, which the runtime removes). */
  output(name: string, tensor: string, type: ElementType, dims: readonly Dim[]): void {
    this.nodes.push({ name: `${name}/Identity`, opType: 'Identity', input: [tensor], output: [name] });
    this.outputs.push(valueInfo(name, type, dims));
  }

  weight(name: string, dims: readonly number[], init: WeightInit): string {
    const size = dims.reduce((a, b) => a * b, 1);
    let values: Float32Array;
    if (init instanceof Float32Array) {
      values = init;
    } else if (init === 'ones' || init === 'zeros') {
      values = new Float32Array(size).fill(init === 'ones' ? 1 : 0);
    } else {
      values = fillUniform(new Float32Array(size), init.std, seedFrom(`${this.seedPrefix}/${name}`));
    }
    if (values.length !== size) {
      throw new Error(`${name}: ${values.length} values for shape [${dims.join(', ')}]`);
    }
    this.initializers.push({
      name,
      dims: [...dims],
      dataType: ONNX_TYPE.float32,
      rawData: littleEndianBytes(values)
    });
    return name;
  }

  /** A float scalar (e.g. an epsilon); identical constants share one initializer. */
  float(value: number): string {
    return this.constant('float32', [value], []);
  }

  /** An int64 scalar. */
  int(value: number): string {
    return this.constant('int64', [value], []);
  }

  /** A 1-D int64 tensor (shapes, axes, split sizes). */
  ints(values: readonly number[]): string {
    return this.constant('int64', values, [values.length]);
  }

  /** A float tensor that is part of the computation rather than a learned weight (e.g. rotary frequencies). */
  floats(values: readonly number[]): string {
    return this.constant('float32', values, [values.length]);
  }

  op(opType: string, inputs: readonly string[], attributes: Attributes = {}): string {
    const [output] = this.ops(opType, inputs, 1, attributes);
    return output!;
  }

  ops(opType: string, inputs: readonly string[], outputCount: number, attributes: Attributes = {}): string[] {
    const name = `/${opType}_${this.nodes.length}`;
    const output = Array.from({ length: outputCount }, (_, i) => `${name}/out${i}`);
    const attribute = Object.entries(attributes).map(([key, value]): proto.IAttributeProto =>
      Array.isArray(value)
        ? { name: key, type: onnx.AttributeProto.AttributeType.INTS, ints: value }
        : { name: key, type: onnx.AttributeProto.AttributeType.INT, i: value }
    );
    this.nodes.push({ name, opType, input: [...inputs], output, attribute });
    return output;
  }

  encode(): Uint8Array {
    return onnx.ModelProto.encode({
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: OPSET }],
      producerName: 'vision-hub generate-tiny-models',
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs
      }
    }).finish();
  }

  private constant(type: 'float32' | 'int64', values: readonly number[], dims: number[]): string {
    const key = `${type}[${dims.join(',')}]:${values.join(',')}`;
    const existing = this.constants.get(key);
    if (existing) {
      return existing;
    }
    const name = `/const_${this.constants.size}`;
    const data = type === 'float32' ? Float32Array.from(values) : BigInt64Array.from(values, (v) => BigInt(v));
    this.initializers.push({ name, dims, dataType: ONNX_TYPE[type], rawData: littleEndianBytes(data) });
    this.constants.set(key, name);
    return name;
  }
}
