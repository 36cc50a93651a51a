#version 330
// Face vertices: positions and normals blended on the CPU (core.face.rig); the head
// rotation is the model matrix. Lighting is evaluated here, per vertex: the head is
// finely subdivided, and per-pixel lighting costs Mesa's llvmpipe most of its frame time.
// Three-point lighting with a skin-like material: wrapped diffuse for a soft terminator
// (a cheap subsurface look) tinted warm where light wraps, a broad low specular and a rim.
uniform mat4 u_model;
uniform mat4 u_view;
uniform mat4 u_proj;
uniform vec3 u_eye;
uniform vec3 u_key_dir;      // normalised, towards the light
uniform vec3 u_fill_dir;
uniform vec3 u_rim_dir;
uniform vec3 u_key_color;
uniform vec3 u_fill_color;
uniform vec3 u_rim_color;
uniform vec3 u_ambient;
uniform int u_wireframe;

in vec3 in_position;
in vec3 in_normal;
in vec3 in_color;
in vec3 in_shade;            // colour offset the shapes drive (creases, blanching), blended on the CPU
in vec3 in_material;         // diffuse wrap, specular exponent, specular strength

out vec3 v_color;

void main() {
    vec4 world = u_model * vec4(in_position, 1.0);
    vec3 n = normalize(mat3(u_model) * in_normal);
    vec3 v = normalize(u_eye - world.xyz);
    float wrap = in_material.x, gloss = in_material.y, ks = in_material.z;

    float nk = dot(n, u_key_dir), nf = dot(n, u_fill_dir), nr = dot(n, u_rim_dir);
    vec3 dk = vec3(max((nk + wrap) / (1.0 + wrap), 0.0));
    // Light that wraps past the terminator comes back reddened, as through skin.
    dk *= mix(vec3(1.0, 0.5, 0.4), vec3(1.0), clamp(nk * 2.0 + 1.0 - wrap * 2.0, 0.0, 1.0));
    float df = max((nf + wrap) / (1.0 + wrap), 0.0);
    float dr = max((nr + wrap) / (1.0 + wrap), 0.0);
    vec3 light = u_ambient + u_key_color * dk + u_fill_color * df + u_rim_color * dr;

    float sk = pow(max(dot(n, normalize(u_key_dir + v)), 0.0), gloss) * step(0.0, nk);
    float sr = pow(max(dot(n, normalize(u_rim_dir + v)), 0.0), gloss) * step(0.0, nr);
    vec3 spec = ks * (u_key_color * sk + u_rim_color * sr);
    float rim = 1.0 - max(dot(n, v), 0.0);
    rim *= rim; rim *= rim;

    vec3 base = clamp(in_color + in_shade, 0.0, 1.0);
    vec3 color = base * light + spec + rim * 0.08 * wrap * u_rim_color;
    if (u_wireframe == 1) color = mix(color, vec3(0.05, 0.3, 0.6), 0.6);
    color = color / (1.0 + 0.15 * color);
    // sRGB encoding (the framebuffer is 8-bit); sqrt is close to 1/2.2 and much cheaper.
    v_color = sqrt(clamp(color, 0.0, 1.0));
    gl_Position = u_proj * u_view * world;
}
