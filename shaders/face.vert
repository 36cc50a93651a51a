#version 330
// Face vertices: positions and normals already blended on the CPU (core.face.rig),
// head rotation applied here as the model matrix.
uniform mat4 u_model;
uniform mat4 u_view;
uniform mat4 u_proj;

in vec3 in_position;
in vec3 in_normal;
in vec3 in_color;
in vec3 in_material;

out vec3 v_world;
out vec3 v_normal;
out vec3 v_color;
out vec3 v_material;

void main() {
    vec4 world = u_model * vec4(in_position, 1.0);
    v_world = world.xyz;
    v_normal = mat3(u_model) * in_normal;
    v_color = in_color;
    v_material = in_material;
    gl_Position = u_proj * u_view * world;
}
