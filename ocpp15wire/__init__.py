"""OCPP 1.5 SOAP on the wire, shared by the gateway and the simulator: no I/O, no server."""
