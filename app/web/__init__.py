"""What the blueprints share and the factory registers, none of it a blueprint itself:
signing in and out, sending a patient's file, the error pages."""
