"""The pieces every node kind is written against: ports, the node base class, the registry."""
