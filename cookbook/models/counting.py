"""Counting depth the way the papers do: weight layers along the longest input-to-output path."""

import keras

WEIGHT_LAYERS = (keras.layers.Conv2D, keras.layers.Dense)


def weight_layer_depth(model):
    """The number of convolution and dense layers on the longest path through `model`.

    This is how AlexNet (8), GoogLeNet (22) and ResNet (20, 56, 152...) count:
    layers in parallel branches (an Inception module's four branches, a ResNet
    projection shortcut) do not add depth, layers in sequence do.
    """
    depth = {}
    for layer in model.layers:  # a functional model lists its layers in a topological order
        parents = [node.operation for node in layer._inbound_nodes[0].parent_nodes]
        inherited = max((depth[parent] for parent in parents), default=0)
        depth[layer] = inherited + isinstance(layer, WEIGHT_LAYERS)
    return max(depth.values())
