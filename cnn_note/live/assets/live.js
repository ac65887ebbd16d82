// The note, live: draw a digit (or open a picture) and watch every layer of the models answer, in this page alone.
//
// The models arrive as scripts (model-*.js: window.cnnNoteModels, written by cnn_note.live.export) and run here with
// TensorFlow.js's ops, in float32, from pixels 0..1, as the Python tools take them: on its WebAssembly backend (XNNPACK,
// SIMD; its binary arrives as a data: URL in wasm.js), or on its CPU backend where that cannot start or lacks an op
// a model uses. Nothing is fetched: the page works from file:// and from any static server. window.cnnNote is the page's contract with tests
// and with a curious reader's console: set(pixels) and read().
(function () {
  "use strict";

  var MODELS = window.cnnNoteModels || [];
  var INPUTS = window.cnnNoteInputs || null;
  var SIDE = 280;  // the drawing canvas's own pixels
  // The note's changes, as why_cnn.py makes them, given by live.html (cnn_note.settings states them once): the largest
  // shift, and each subsampling's [first kept row, row step, first column, column step].
  var MAX_SHIFT = window.cnnNoteChanges.max_shift;
  var SUBSAMPLINGS = window.cnnNoteChanges.subsamplings;

  function product(shape) { return shape.reduce(function (a, b) { return a * b; }, 1); }

  function decode(text) {
    var binary = atob(text), bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
    return bytes;
  }

  // ---- A model as TensorFlow.js ops (one function per Keras layer kind; see export.OPERATIONS) ----

  function activate(name, x) {
    switch (name) {
      case undefined: case null: case "linear": return x;
      case "relu": return tf.relu(x);
      case "relu6": return tf.relu6(x);
      case "sigmoid": return tf.sigmoid(x);
      case "tanh": return tf.tanh(x);
      case "softmax": return tf.softmax(x);
      case "elu": return tf.elu(x);
      case "selu": return tf.selu(x);
      case "softplus": return tf.softplus(x);
      case "softsign": return tf.div(x, tf.add(1, tf.abs(x)));
      case "swish": case "silu": return tf.mul(x, tf.sigmoid(x));
      case "hard_sigmoid": return tf.div(tf.relu6(tf.add(x, 3)), 6);
      case "hard_silu": case "hard_swish": return tf.mul(x, tf.div(tf.relu6(tf.add(x, 3)), 6));
      case "leaky_relu": return tf.leakyRelu(x, 0.2);
      case "exponential": return tf.exp(x);
      case "gelu": return tf.mul(tf.mul(0.5, x), tf.add(1, tf.erf(tf.div(x, Math.SQRT2))));
    }
    throw new Error("activation " + name + " is not one the page computes");
  }

  function withBias(y, w) { return w.bias ? tf.add(y, w.bias) : y; }

  function pair(value) { return Array.isArray(value) ? value : [value, value]; }

  function reduce(xs, op) { return xs.slice(1).reduce(function (a, b) { return op(a, b); }, xs[0]); }

  var OPERATIONS = {
    Conv2D: function (c, x, w) {
      return activate(c.activation, withBias(tf.conv2d(x[0], w.kernel, c.strides, c.padding, "NHWC", c.dilation_rate), w));
    },
    DepthwiseConv2D: function (c, x, w) {
      return activate(c.activation, withBias(tf.depthwiseConv2d(x[0], w.kernel, c.strides, c.padding, "NHWC", c.dilation_rate), w));
    },
    SeparableConv2D: function (c, x, w) {
      return activate(c.activation, withBias(tf.separableConv2d(x[0], w.depthwise_kernel, w.pointwise_kernel, c.strides,
                                                                c.padding, c.dilation_rate, "NHWC"), w));
    },
    Dense: function (c, x, w) {
      var shape = x[0].shape, units = w.kernel.shape[1];
      var flat = tf.reshape(x[0], [-1, shape[shape.length - 1]]);
      return activate(c.activation, withBias(tf.reshape(tf.matMul(flat, w.kernel), shape.slice(0, -1).concat([units])), w));
    },
    MaxPooling2D: function (c, x) { return tf.maxPool(x[0], c.pool_size, c.strides || c.pool_size, c.padding); },
    AveragePooling2D: function (c, x) { return tf.avgPool(x[0], c.pool_size, c.strides || c.pool_size, c.padding); },
    GlobalAveragePooling2D: function (c, x) { return tf.mean(x[0], [1, 2], !!c.keepdims); },
    GlobalMaxPooling2D: function (c, x) { return tf.max(x[0], [1, 2], !!c.keepdims); },
    Flatten: function (c, x) { return tf.reshape(x[0], [x[0].shape[0], -1]); },
    Reshape: function (c, x) { return tf.reshape(x[0], [x[0].shape[0]].concat(c.target_shape)); },
    Permute: function (c, x) { return tf.transpose(x[0], [0].concat(c.dims)); },
    ZeroPadding2D: function (c, x) {
      var p = c.padding.map(pair);
      return tf.pad(x[0], [[0, 0], p[0], p[1], [0, 0]]);
    },
    Cropping2D: function (c, x) {
      var k = c.cropping.map(pair), s = x[0].shape;
      return tf.slice(x[0], [0, k[0][0], k[1][0], 0], [s[0], s[1] - k[0][0] - k[0][1], s[2] - k[1][0] - k[1][1], s[3]]);
    },
    Activation: function (c, x) { return activate(c.activation, x[0]); },
    ReLU: function (c, x) {  // as keras.activations.relu: x above the threshold, clipped to max_value, less the slope's part
      var t = c.threshold || 0, slope = c.negative_slope || 0;
      var y = t ? tf.mul(x[0], tf.cast(tf.greater(x[0], t), "float32")) : tf.relu(x[0]);
      if (c.max_value !== null && c.max_value !== undefined) { y = tf.clipByValue(y, 0, c.max_value); }
      return slope ? tf.sub(y, tf.mul(slope, tf.relu(tf.sub(t, x[0])))) : y;
    },
    LeakyReLU: function (c, x) { return tf.leakyRelu(x[0], c.negative_slope); },
    ELU: function (c, x) { return tf.where(tf.greater(x[0], 0), x[0], tf.mul(c.alpha, tf.sub(tf.exp(x[0]), 1))); },
    PReLU: function (c, x, w) { return tf.prelu(x[0], w.alpha); },
    Softmax: function (c, x) {
      if (c.axis !== -1 && c.axis !== x[0].rank - 1) { throw new Error("Softmax on axis " + c.axis + " is not one the page computes"); }
      return tf.softmax(x[0]);
    },
    BatchNormalization: function (c, x, w) {
      var axis = Array.isArray(c.axis) ? c.axis[0] : c.axis;
      if (axis !== -1 && axis !== x[0].rank - 1) { throw new Error("BatchNormalization on axis " + axis + " is not one the page computes"); }
      return tf.batchNorm(x[0], w.moving_mean, w.moving_variance, w.beta, w.gamma, c.epsilon);
    },
    Rescaling: function (c, x) { return tf.add(tf.mul(x[0], c.scale), c.offset); },
    Normalization: function (c, x, w) { return tf.div(tf.sub(x[0], w.mean), tf.maximum(tf.sqrt(w.variance), 1e-7)); },
    Add: function (c, x) { return reduce(x, tf.add); },
    Subtract: function (c, x) { return tf.sub(x[0], x[1]); },
    Multiply: function (c, x) { return reduce(x, tf.mul); },
    Average: function (c, x) { return tf.div(reduce(x, tf.add), x.length); },
    Maximum: function (c, x) { return reduce(x, tf.maximum); },
    Minimum: function (c, x) { return reduce(x, tf.minimum); },
    Concatenate: function (c, x) { return tf.concat(x, c.axis); },
    Arithmetic: function (c, x, w, tensors) {  // a Keras operation on tensors and constants: x / 127.5, x - 1
      var operands = c.operands.map(function (o) { return o[0] === "tensor" ? tensors[o[1]] : o[1]; });
      return reduce(operands, tf[c.function]);
    }
  };

  // ---- A transformer's operations, on tokens (batch, tokens, channels) (one function each; see export.TOKEN_OPERATIONS) ----

  // Tokens through a Keras EinsumDense kernel (channels, heads, size) and bias (heads, size), as an attention layer
  // makes its queries, keys and values: (batch, heads, tokens, size), each head apart.
  function heads(x, kernel, bias) {
    var s = x.shape, k = kernel.shape;
    var y = tf.reshape(tf.matMul(tf.reshape(x, [-1, s[2]]), tf.reshape(kernel, [k[0], k[1] * k[2]])), [s[0], s[1], k[1], k[2]]);
    return tf.transpose(bias ? tf.add(y, bias) : y, [0, 2, 1, 3]);
  }

  // Attention scores (batch, heads, queries, keys): each head's queries, scaled by 1/sqrt(key_dim) as Keras scales them,
  // against that head's keys, softmax over the keys.
  function attentionScores(c, query, key, w) {
    var q = tf.mul(heads(query, w.query_kernel, w.query_bias), 1 / Math.sqrt(c.key_dim));
    return tf.softmax(tf.matMul(q, heads(key, w.key_kernel, w.key_bias), false, true));
  }

  // The heads' weighted values (batch, heads, queries, value_dim), joined through the output kernel (heads, value_dim,
  // units) and bias: (batch, queries, units).
  function attentionOutput(weighted, kernel, bias) {
    var s = weighted.shape, k = kernel.shape;
    var joined = tf.reshape(tf.transpose(weighted, [0, 2, 1, 3]), [-1, s[1] * s[3]]);
    var y = tf.reshape(tf.matMul(joined, tf.reshape(kernel, [k[0] * k[1], k[2]])), [s[0], s[2], k[2]]);
    return bias ? tf.add(y, bias) : y;
  }

  // keras.ops.layer_normalization over the last axis: (x - mean) / sqrt(variance + epsilon), times gamma, plus beta;
  // with rms_scaling, as Keras computes it: x / sqrt(variance + epsilon) times gamma.
  function layerNormalization(c, x, w) {
    var m = tf.moments(x, -1, true), inv = tf.rsqrt(tf.add(m.variance, c.epsilon));
    if (c.rms_scaling) { return w.gamma ? tf.mul(tf.mul(x, inv), w.gamma) : tf.mul(x, inv); }
    var y = tf.mul(tf.sub(x, m.mean), inv);
    y = w.gamma ? tf.mul(y, w.gamma) : y;
    return w.beta ? tf.add(y, w.beta) : y;
  }

  var TOKEN_OPERATIONS = {
    LayerNormalization: function (c, x, w) { return layerNormalization(c, x[0], w); },
    MultiHeadAttention: function (c, x, w) {  // x: the query, the value, and the key where it is given apart
      var scores = attentionScores(c, x[0], x[2] || x[1], w);
      return attentionOutput(tf.matMul(scores, heads(x[1], w.value_kernel, w.value_bias)), w.output_kernel, w.output_bias);
    },
    Embedding: function (c, x, w) { return tf.gather(w.embeddings, tf.cast(x[0], "int32")); },  // Keras casts to int32
    ClassToken: function (c, x, w) { return tf.concat([tf.tile(w.token, [x[0].shape[0], 1, 1]), x[0]], 1); },
    PositionEmbedding: function (c, x, w) { return tf.add(x[0], w.positions); },
    ClassTokenOutput: function (c, x) {  // the first token
      var s = x[0].shape;
      return tf.reshape(tf.slice(x[0], [0, 0, 0], [s[0], 1, s[2]]), [s[0], s[2]]);
    },
    Constant: function (c, x, w) { return w.value; }  // a value the model holds (position embeddings computed once)
  };

  function operation(kind) {
    if (Object.prototype.hasOwnProperty.call(OPERATIONS, kind)) { return OPERATIONS[kind]; }
    return Object.prototype.hasOwnProperty.call(TOKEN_OPERATIONS, kind) ? TOKEN_OPERATIONS[kind] : null;
  }

  // Tokens (batch, extra + height * width, channels) as maps (batch, height, width, channels), the extra tokens left out:
  // a token layer as the tools see it (core.tokens.TokenMap), on its grid [extra, height, width].
  function onGrid(tokens, grid) {
    var s = tokens.shape;
    return tf.reshape(tf.slice(tokens, [0, grid[0], 0], [s[0], grid[1] * grid[2], s[2]]), [s[0], grid[1], grid[2], s[2]]);
  }

  // The class token's attention in an attention layer, for the batch's first picture: row 0 of its scores, the heads
  // averaged, over the patch tokens (the extra ones left out), as grid[1] x grid[2] values, row by row.
  function classAttention(step, inputs, grid) {
    var scores = attentionScores(step.op.config, inputs[0], inputs[2] || inputs[1], step.weights);
    return tf.mean(tf.slice(scores, [0, 0, 0, grid[0]], [1, -1, 1, grid[1] * grid[2]]), [0, 1, 2]).dataSync();
  }

  function softmax(values) {
    var top = Math.max.apply(null, values), exps = values.map(function (v) { return Math.exp(v - top); });
    var sum = exps.reduce(function (a, b) { return a + b; }, 0);
    return exps.map(function (v) { return v / sum; });
  }

  function sigmoid(v) { return 1 / (1 + Math.exp(-v)); }

  // The probabilities from the output, as cnn_note.core.heads.Head reads each kind of head.
  function probabilities(head, out) {
    var values = Array.from(out);
    switch (head.kind) {
      case "softmax": case "regression": return values;
      case "logits": return softmax(values);
      case "binary":
        var p = head.activation === "sigmoid" ? values[0] : sigmoid(values[0]);
        return [1 - p, p];
      case "sigmoid": return head.activation === "sigmoid" ? values : values.map(sigmoid);
    }
    return values;
  }

  function Model(spec) {
    var bytes = decode(spec.weights), all = new Float32Array(bytes.buffer), weights = {};
    Object.keys(spec.offsets).forEach(function (key) {
      var start = spec.offsets[key][0], shape = spec.offsets[key][1];
      weights[key] = tf.tensor(all.subarray(start, start + product(shape)), shape, "float32");
    });
    this.spec = spec;
    this.operations = spec.operations.map(function (op, index) {
      var own = {};
      (op.weights || []).forEach(function (name) { own[name] = weights[index + "/" + name]; });
      var run = op.pass ? function (c, x) { return x[0]; } : operation(op.kind);
      if (!run) { throw new Error("layer " + op.name + " is a " + op.kind + ", which this page does not compute"); }
      return {op: op, weights: own, run: run};
    });
    this.head = spec.head;
    var headOp = spec.head && spec.operations.filter(function (op) { return op.name === spec.head.layer; })[0];
    this.headTensor = headOp ? headOp.output : null;
  }

  Model.prototype.dispose = function () {
    this.operations.forEach(function (step) { Object.keys(step.weights).forEach(function (k) { step.weights[k].dispose(); }); });
  };

  // Every shown layer's values and the probabilities, for a batch of pictures (pixels 0..1, [n, H, W, C]).
  Model.prototype.run = function (pictures) {
    var spec = this.spec, self = this;
    return tf.tidy(function () {
      var x = pictures;
      if (spec.pixels) {  // the model's own pixel convention, an affine map of each pixel's channels
        var channels = spec.input[2], shape = x.shape;
        x = tf.reshape(tf.add(tf.matMul(tf.reshape(x, [-1, channels]), tf.tensor2d(spec.pixels[0]), false, true),
                              tf.tensor1d(spec.pixels[1])), shape);
      }
      var tensors = [x], found = Object.create(null), attention = null;  // layer names are the user's: "constructor" too
      self.operations.forEach(function (step) {
        var op = step.op, inputs = op.inputs.map(function (i) { return tensors[i]; });
        tensors[op.output] = step.run(op.config || {}, inputs, step.weights, tensors);
        found[op.name] = tensors[op.output];
        if (spec.attention && op.name === spec.attention.layer) { attention = classAttention(step, inputs, spec.attention.grid); }
      });
      var layers = Object.create(null), shapes = Object.create(null), grids = spec.grids || {};
      spec.shown.forEach(function (name) {
        var value = Object.prototype.hasOwnProperty.call(grids, name) ? onGrid(found[name], grids[name]) : found[name];
        layers[name] = value.dataSync(); shapes[name] = value.shape.slice(1);
      });
      var out = self.headTensor === null ? null : tensors[self.headTensor];
      var outs = out ? out.arraySync() : [];
      return {layers: layers, shapes: shapes, attention: attention,
              probabilities: outs.map(function (row) { return probabilities(self.head, row); })};
    });
  };

  // ---- The input: a drawing made as the MNIST digits were made, a shipped input, or a picture from disk ----

  var first = MODELS[0] ? MODELS[0].input : [28, 28, 1];
  var H = first[0], W = first[1], C = first[2];
  var state = {base: new Float32Array(H * W * C), shift: [0, 0], subsampling: "original", input: null, results: []};

  // The stroke's box scaled to 20/28 of the side (its longer edge) and moved so its centre of mass is the centre, as
  // LeCun et al. made MNIST from NIST's digits: the page's drawing becomes what the model was trained on.
  function fromDrawing(canvas) {
    var context = canvas.getContext("2d", {willReadFrequently: true});
    var data = context.getImageData(0, 0, canvas.width, canvas.height).data;
    var top = canvas.height, left = canvas.width, bottom = -1, right = -1;
    for (var y = 0; y < canvas.height; y++) {
      for (var x = 0; x < canvas.width; x++) {
        if (data[(y * canvas.width + x) * 4] > 0) {
          top = Math.min(top, y); bottom = Math.max(bottom, y); left = Math.min(left, x); right = Math.max(right, x);
        }
      }
    }
    var out = new Float32Array(H * W * C);
    if (bottom < 0) { return out; }
    var height = bottom - top + 1, width = right - left + 1, box = Math.round(Math.min(H, W) * 20 / 28);
    var scale = box / Math.max(height, width);
    var h = Math.max(1, Math.round(height * scale)), w = Math.max(1, Math.round(width * scale));
    var small = document.createElement("canvas");
    small.width = w; small.height = h;
    var sc = small.getContext("2d", {willReadFrequently: true});
    sc.imageSmoothingEnabled = true; sc.imageSmoothingQuality = "high";
    sc.drawImage(canvas, left, top, width, height, 0, 0, w, h);
    var pixels = sc.getImageData(0, 0, w, h).data, mass = 0, my = 0, mx = 0;
    for (y = 0; y < h; y++) {
      for (x = 0; x < w; x++) {
        var v = pixels[(y * w + x) * 4] / 255;
        mass += v; my += v * y; mx += v * x;
      }
    }
    var dy = mass ? Math.round((H - 1) / 2 - my / mass) : Math.round((H - h) / 2);
    var dx = mass ? Math.round((W - 1) / 2 - mx / mass) : Math.round((W - w) / 2);
    for (y = 0; y < h; y++) {
      for (x = 0; x < w; x++) {
        var ty = y + dy, tx = x + dx;
        if (ty < 0 || ty >= H || tx < 0 || tx >= W) { continue; }
        for (var k = 0; k < C; k++) { out[(ty * W + tx) * C + k] = pixels[(y * w + x) * 4] / 255; }
      }
    }
    return out;
  }

  // why_cnn.py's changes (cnn_note.note.distortions): shift with background coming in, then drop rows and stretch back.
  function distorted(base, shift, subsampling) {
    var dy = shift[0], dx = shift[1], moved = new Float32Array(base.length), x, y, k;
    for (y = 0; y < H; y++) {
      for (x = 0; x < W; x++) {
        var sy = y - dy, sx = x - dx;
        if (sy < 0 || sy >= H || sx < 0 || sx >= W) { continue; }
        for (k = 0; k < C; k++) { moved[(y * W + x) * C + k] = base[(sy * W + sx) * C + k]; }
      }
    }
    var s = SUBSAMPLINGS[subsampling];
    if (s[1] === 1 && s[3] === 1) { return moved; }
    var out = new Float32Array(base.length);
    for (y = 0; y < H; y++) {
      for (x = 0; x < W; x++) {
        var ry = s[0] + s[1] * Math.floor(y / s[1]), rx = s[2] + s[3] * Math.floor(x / s[3]);
        for (k = 0; k < C; k++) { out[(y * W + x) * C + k] = ry < H && rx < W ? moved[(ry * W + rx) * C + k] : 0; }
      }
    }
    return out;
  }

  // ---- Drawing the answers ----

  function paint(canvas, values, height, width, channels, channel, top) {
    var context = canvas.getContext("2d"), image = context.createImageData(width, height), signed = top.low < 0;
    for (var i = 0; i < height * width; i++) {
      var v = values[i * channels + channel], r, g, b;
      if (signed) {  // orange for positive, blue for negative, white at 0
        var t = Math.min(1, Math.abs(v) / (top.high || 1));
        r = v >= 0 ? 255 : 255 - 200 * t; g = 255 - (v >= 0 ? 120 : 130) * t; b = v >= 0 ? 255 - 230 * t : 255;
      } else {
        r = g = b = 255 * Math.min(1, v / (top.high || 1));
      }
      image.data[i * 4] = r; image.data[i * 4 + 1] = g; image.data[i * 4 + 2] = b; image.data[i * 4 + 3] = 255;
    }
    context.putImageData(image, 0, 0);
  }

  function extent(values) {
    var low = 0, high = 0;
    for (var i = 0; i < values.length; i++) { low = Math.min(low, values[i]); high = Math.max(high, Math.abs(values[i])); }
    return {low: low, high: high};
  }

  function element(tag, attributes, parent) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (key) {
      if (key === "text") { node.textContent = attributes[key]; } else { node.setAttribute(key, attributes[key]); }
    });
    if (parent) { parent.appendChild(node); }
    return node;
  }

  function Panel(model, parent) {
    this.model = model;
    this.root = element("section", {"class": "model"}, parent);
    element("h2", {text: model.spec.name}, this.root);
    // The answer above the layers, which come after it as they are drawn: the bars are seen without scrolling.
    this.answer = element("div", {"class": "answer"}, this.root);
    this.attention = model.spec.attention ? attentionBox(model.spec.attention, this.root) : null;
    this.layers = Object.create(null);
    this.bars = null;
  }

  // Where a transformer's class token's attention is drawn: over the input, on the patch grid, beside its maps.
  function attentionBox(attention, parent) {
    var box = element("div", {"class": "layer attention"}, parent), grid = attention.grid;
    element("h3", {text: attention.layer + ": where the class token looks (its attention, heads averaged, on the " +
                         grid[1] + "x" + grid[2] + " patch grid)"}, box);
    return element("canvas", {width: W, height: H, "class": "attention-map"}, box);
  }

  // The input in grey, each patch tinted orange as much as the class token attends to it (the most attended, most).
  function paintAttention(canvas, input, values, grid) {
    var context = canvas.getContext("2d"), image = context.createImageData(W, H), top = Math.max.apply(null, values) || 1;
    for (var y = 0; y < H; y++) {
      for (var x = 0; x < W; x++) {
        var i = y * W + x, grey = 0, k;
        for (k = 0; k < C; k++) { grey += 150 * input[i * C + k] / C; }
        var cell = Math.min(grid[1] - 1, Math.floor(y * grid[1] / H)) * grid[2] + Math.min(grid[2] - 1, Math.floor(x * grid[2] / W));
        var a = 0.85 * values[cell] / top;
        image.data[i * 4] = grey + (255 - grey) * a; image.data[i * 4 + 1] = grey + (140 - grey) * a;
        image.data[i * 4 + 2] = grey * (1 - a); image.data[i * 4 + 3] = 255;
      }
    }
    context.putImageData(image, 0, 0);
  }

  Panel.prototype.layerBox = function (name, shape) {
    if (this.layers[name]) { return this.layers[name]; }
    var spec = this.model.spec, box = element("div", {"class": "layer"}, this.root), maps = [];
    var grid = spec.grids && Object.prototype.hasOwnProperty.call(spec.grids, name) ? spec.grids[name] : null;
    element("h3", {text: name + " " + shape.join("x") + (grid ? " (tokens on their grid" +
                         (grid[0] ? ", " + grid[0] + " more left out)" : ")") : "")}, box);
    var grid = element("div", {"class": shape.length === 3 ? "maps" : "vector"}, box);
    if (shape.length === 3) {
      var link = Object.prototype.hasOwnProperty.call(spec.atlas, name) ? spec.atlas[name] : null;
      for (var c = 0; c < shape[2]; c++) {
        var holder = link ? element("a", {href: link + "/" + c + ".html", "data-picture": link + "/" + c + ".png",
                                          title: name + " unit " + c}, grid) : grid;
        maps.push(element("canvas", {width: shape[1], height: shape[0], "class": "map"}, holder));
      }
    } else {
      var columns = Math.min(shape[0], 50);
      maps.push(element("canvas", {width: columns, height: Math.ceil(shape[0] / columns), "class": "strip"}, grid));
    }
    this.layers[name] = maps;
    return maps;
  };

  Panel.prototype.show = function (result, input) {
    var self = this;
    if (this.attention) { paintAttention(this.attention, input, result.attention, this.model.spec.attention.grid); }
    this.model.spec.shown.forEach(function (name) {
      var values = result.layers[name], shape = result.shapes[name], maps = self.layerBox(name, shape), top = extent(values);
      if (shape.length === 3) {
        for (var c = 0; c < shape[2]; c++) { paint(maps[c], values, shape[0], shape[1], shape[2], c, top); }
      } else {
        var strip = maps[0], padded = new Float32Array(strip.width * strip.height);
        padded.set(values);
        paint(strip, padded, strip.height, strip.width, 1, 0, top);
      }
    });
    if (this.model.head) { this.showBars(result.probabilities[0]); }
  };

  Panel.prototype.showBars = function (values) {
    var spec = this.model.spec;
    if (!this.bars) {
      element("h3", {text: spec.head.kind === "regression" ? "value" : "probabilities"}, this.answer);
      this.bars = element("div", {"class": "bars"}, this.answer);
      this.rows = spec.classes.map(function (name) {
        var row = element("div", {"class": "bar"}, this.bars);
        element("span", {"class": "name", text: name}, row);
        var track = element("span", {"class": "track"}, row);
        return {fill: element("span", {"class": "fill"}, track), value: element("span", {"class": "value"}, row), row: row};
      }, this);
    }
    var best = values.indexOf(Math.max.apply(null, values)), regression = spec.head.kind === "regression";
    this.rows.forEach(function (row, k) {
      row.fill.style.width = (regression ? 0 : Math.max(0, Math.min(1, values[k])) * 100) + "%";
      row.value.textContent = regression ? values[k].toPrecision(4) : (values[k] * 100).toFixed(1) + "%";
      row.row.className = "bar" + (k === best && !regression ? " best" : "");
    });
  };

  // ---- The page ----

  var page = {};

  // `pixels` (0..1, H*W*C) onto an H x W canvas: grey as grey, colour as itself.
  function showPixels(canvas, pixels) {
    var context = canvas.getContext("2d"), image = context.createImageData(W, H);
    for (var i = 0; i < H * W; i++) {
      for (var k = 0; k < 3; k++) { image.data[i * 4 + k] = 255 * pixels[i * C + (C === 3 ? k : 0)]; }
      image.data[i * 4 + 3] = 255;
    }
    context.putImageData(image, 0, 0);
  }

  function showInput() {
    showPixels(page.seen, state.input);
    page.change.textContent = "shift " + state.shift[0] + " down, " + state.shift[1] + " right; " + state.subsampling;
  }

  function update() {
    state.input = distorted(state.base, state.shift, state.subsampling);
    showInput();
    var batch = tf.tensor4d(state.input, [1, H, W, C]);
    try {
      state.results = page.panels.map(function (panel) {
        var result = panel.model.run(batch);
        panel.show(result, state.input);
        return result;
      });
    } finally { batch.dispose(); }
  }

  // On the shipped inputs with labels: how many each model gets right under the change now chosen (each change counted
  // once: the inputs do not change).
  var tallies = {};
  function tally() {
    if (!INPUTS || !INPUTS.labels || !page.panels.length) { return; }
    var key = state.shift.join(",") + " " + state.subsampling;
    if (!(key in tallies)) { tallies[key] = counted(); }
    page.tally.textContent = tallies[key];
    document.body.classList.add("counted");  // the page's text says what the count is only where there is one
  }

  function counted() {
    var count = INPUTS.labels.length, pictures = new Float32Array(count * H * W * C);
    for (var n = 0; n < count; n++) { pictures.set(distorted(INPUTS.picture(n), state.shift, state.subsampling), n * H * W * C); }
    var batch = tf.tensor4d(pictures, [count, H, W, C]), text;
    try {
      text = "On these " + count + " test inputs, with this change: " + page.panels.map(function (panel) {
        var head = panel.model.head;
        if (!head || head.kind === "regression") { return ""; }  // a value is not right or wrong
        var right = panel.model.run(batch).probabilities.filter(function (p, i) {
          return p.indexOf(Math.max.apply(null, p)) === INPUTS.labels[i];
        }).length;
        return panel.model.spec.name + " right on " + right;
      }).filter(Boolean).join(", ") + ".";
    } finally { batch.dispose(); }
    return text;
  }

  function paintBase() {  // the drawing canvas shows the base input, as if it had been drawn
    var canvas = page.canvas, context = canvas.getContext("2d"), small = document.createElement("canvas");
    small.width = W; small.height = H;
    showPixels(small, state.base);
    context.imageSmoothingEnabled = false;
    context.fillStyle = "#000";
    context.fillRect(0, 0, SIDE, SIDE);
    context.drawImage(small, 0, 0, SIDE, SIDE);
  }

  function changed(shift, subsampling) {
    state.shift = shift;
    state.subsampling = subsampling;
    document.getElementById("subsampling").value = subsampling;
    update();
    tally();
  }

  function setUp() {
    page.canvas = document.getElementById("draw");
    page.seen = document.getElementById("seen");
    page.change = document.getElementById("change");
    page.tally = document.getElementById("tally");
    page.message = document.getElementById("message");
    page.seen.width = W; page.seen.height = H;
    page.canvas.width = SIDE; page.canvas.height = SIDE;
    var answers = document.getElementById("answers");
    page.panels = MODELS.map(function (spec) { return new Panel(new Model(spec), answers); });
    if (INPUTS) {
      var pixels = decode(INPUTS.pixels);
      INPUTS.picture = function (n) {
        var out = new Float32Array(H * W * C), start = n * H * W * C;
        for (var i = 0; i < out.length; i++) { out[i] = pixels[start + i] / 255; }
        return out;
      };
    }
    window.cnnNote.backend = tf.getBackend();
    document.getElementById("backend").textContent = tf.getBackend() === "wasm" ? "WebAssembly" : "CPU";
    setUpDrawing();
    setUpControls();
    paintBase();
    update();
    tally();
  }

  function setUpDrawing() {
    var canvas = page.canvas, context = canvas.getContext("2d", {willReadFrequently: true}), last = null, queued = 0;
    context.fillStyle = "#000";
    context.fillRect(0, 0, SIDE, SIDE);
    if (C !== 1) { document.body.classList.add("colour"); return; }  // a colour model takes pictures, not strokes
    function at(event) {
      var rect = canvas.getBoundingClientRect();
      return [(event.clientX - rect.left) * SIDE / rect.width, (event.clientY - rect.top) * SIDE / rect.height];
    }
    function redraw() {
      queued = 0;
      state.base = fromDrawing(canvas);
      update();
    }
    canvas.addEventListener("pointerdown", function (event) {
      canvas.setPointerCapture(event.pointerId);
      if (state.subsampling !== "original" || state.shift[0] || state.shift[1]) { changed([0, 0], "original"); }
      last = at(event);
      context.fillStyle = "#fff";
      context.beginPath(); context.arc(last[0], last[1], 10, 0, 2 * Math.PI); context.fill();
      event.preventDefault();
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!last) { return; }
      var point = at(event);
      context.strokeStyle = "#fff"; context.lineWidth = 20; context.lineCap = "round"; context.lineJoin = "round";
      context.beginPath(); context.moveTo(last[0], last[1]); context.lineTo(point[0], point[1]); context.stroke();
      last = point;
      if (!queued) { queued = window.requestAnimationFrame(redraw); }
    });
    function end(event) {
      if (!last) { return; }
      last = null;
      if (queued) { window.cancelAnimationFrame(queued); queued = 0; }
      var start = performance.now();
      state.base = fromDrawing(canvas);
      update();
      window.cnnNote.timings.push(performance.now() - start);
      event.preventDefault();
    }
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
  }

  function setUpControls() {
    document.getElementById("clear").addEventListener("click", function () {
      state.base = new Float32Array(H * W * C);
      paintBase();
      changed([0, 0], "original");
    });
    document.querySelectorAll("[data-shift]").forEach(function (button) {
      button.addEventListener("click", function () {
        var step = button.getAttribute("data-shift").split(",").map(Number);
        var shift = step[0] === 0 && step[1] === 0 ? [0, 0] : [state.shift[0] + step[0], state.shift[1] + step[1]];
        changed(shift.map(function (v) { return Math.max(-MAX_SHIFT, Math.min(MAX_SHIFT, v)); }), state.subsampling);
      });
    });
    var select = document.getElementById("subsampling");
    Object.keys(SUBSAMPLINGS).forEach(function (name) { element("option", {value: name, text: name}, select); });
    select.addEventListener("change", function () { changed(state.shift, select.value); });
    document.getElementById("open").addEventListener("change", function (event) { openPicture(event.target.files[0]); });
    var shelf = document.getElementById("examples");
    if (!INPUTS) { return; }
    INPUTS.indices.forEach(function (index, n) {
      var label = INPUTS.labels ? INPUTS.labels[n] : null;
      var button = element("button", {"class": "example", type: "button", title: "input " + index}, shelf);
      showPixels(element("canvas", {width: W, height: H}, button), INPUTS.picture(n));
      element("span", {text: INPUTS.names ? INPUTS.names[n] : String(label === null ? "" : label)}, button);
      button.addEventListener("click", function () { window.cnnNote.set(INPUTS.picture(n)); });
    });
  }

  // A picture from disk, read in the page (it is never sent anywhere): cut to the model's shape from its middle, resized.
  function openPicture(file) {
    if (!file) { return; }
    var picture = new Image(), url = URL.createObjectURL(file);  // read where it is: no copy of a large file as text
    picture.onload = function () {
        URL.revokeObjectURL(url);
        var side = Math.min(picture.width / W, picture.height / H), canvas = document.createElement("canvas");
        canvas.width = W; canvas.height = H;
        var context = canvas.getContext("2d", {willReadFrequently: true});
        context.imageSmoothingQuality = "high";
        context.drawImage(picture, (picture.width - side * W) / 2, (picture.height - side * H) / 2, side * W, side * H, 0, 0, W, H);
        var data = context.getImageData(0, 0, W, H).data, pixels = new Float32Array(H * W * C);
        for (var i = 0; i < H * W; i++) {
          for (var k = 0; k < C; k++) {
            pixels[i * C + k] = C === 3 ? data[i * 4 + k] / 255 : (data[i * 4] + data[i * 4 + 1] + data[i * 4 + 2]) / 765;
          }
        }
        page.message.textContent = "";
        window.cnnNote.set(pixels);
    };
    picture.onerror = function () {
      URL.revokeObjectURL(url);
      page.message.textContent = file.name + " is not a picture this browser can read: open a PNG, JPEG, GIF or WebP file.";
    };
    picture.src = url;
  }

  function hoverPictures() {  // a map's unit picture from the atlas, beside it, while the pointer is on it
    var preview = null;  // made on the first hover: a page never hovered holds no picture to load
    document.addEventListener("pointerover", function (event) {
      var link = event.target.closest && event.target.closest("a[data-picture]");
      if (!link) { if (preview) { preview.hidden = true; } return; }
      preview = preview || element("img", {id: "preview", alt: ""}, document.body);
      var rect = link.getBoundingClientRect();
      preview.src = link.getAttribute("data-picture");
      preview.style.left = Math.min(window.innerWidth - 130, rect.right + window.scrollX + 4) + "px";
      preview.style.top = rect.top + window.scrollY + "px";
      preview.hidden = false;
    });
  }

  window.cnnNote = {
    timings: [],
    ready: null,
    backend: null,  // "wasm" or "cpu": what the models run on
    // Show `pixels` (0..1, H*W*C values, row-major, channels last) as if drawn, with no change; resolves when redrawn.
    set: function (pixels) {
      return window.cnnNote.ready.then(function () {
        if (pixels.length !== H * W * C) {
          throw new Error("cnnNote.set takes " + H * W * C + " values (" + H + "x" + W + "x" + C + "), not " + pixels.length);
        }
        state.base = Float32Array.from(pixels);
        paintBase();
        changed([0, 0], "original");
      });
    },
    // What the page shows: its input and, for each model, every shown layer's values (flattened) and the probabilities.
    read: function () {
      if (!state.input) { throw new Error("cnnNote.read(): the page is not ready: wait for cnnNote.ready"); }
      return {input: Array.from(state.input), models: page.panels.map(function (panel, i) {
        var result = state.results[i], layers = Object.create(null);
        Object.keys(result.layers).forEach(function (name) { layers[name] = Array.from(result.layers[name]); });
        return {name: panel.model.spec.name, layers: layers, probabilities: result.probabilities[0] || [],
                attention: result.attention ? Array.from(result.attention) : null};
      })};
    }
  };

  // The backend every model runs on: WebAssembly when it starts and computes each model once, else the CPU's.
  function backend() {
    if (!window.cnnNoteWasm || !tf.wasm) { return tf.setBackend("cpu"); }
    var binary = window.cnnNoteWasm;  // one SIMD binary for every name: threads need a cross-origin isolated page
    tf.wasm.setWasmPaths({"tfjs-backend-wasm.wasm": binary, "tfjs-backend-wasm-simd.wasm": binary,
                          "tfjs-backend-wasm-threaded-simd.wasm": binary});
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
    return tf.setBackend("wasm").then(function (started) {
      if (started) {
        try {
          MODELS.forEach(function (spec) {
            var model = new Model(spec), zeros = tf.zeros([1, H, W, C]);
            try { model.run(zeros); } finally { zeros.dispose(); model.dispose(); }
          });
          return true;
        } catch (error) {
          console.info("WebAssembly backend: " + error.message + "; computing on the CPU backend");
        }
      }
      return tf.setBackend("cpu");
    });
  }

  window.cnnNote.ready = backend().then(function () {
    try {
      setUp();
      hoverPictures();
    } catch (error) {
      document.getElementById("message").textContent = "This page could not run the model: " + error.message;
      throw error;
    }
  });
})();
