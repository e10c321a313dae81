"""The prediction service: the exported ONNX model behind HTTP (``carid serve``); no TensorFlow, no training code."""
